package redisstore

import (
	"embed"
	"fmt"

	"github.com/redis/go-redis/v9"

	"foyer/booking"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// purgeBatch bounds how many ended holds one call deletes, so that a call
// after a long quiet spell stays short.
const purgeBatch = 50

// script is a Lua script with the name used in error messages.
type script struct {
	name string
	*redis.Script
}

// scripts are the Lua scripts of the store, one per atomic operation.
type scripts struct {
	createEvent   script
	updateEvent   script
	addSlots      script
	getEvent      script
	setCapacity   script
	availability  script
	slotStats     script
	hold          script
	extendHold    script
	releaseHold   script
	getHold       script
	confirm       script
	cancelOrder   script
	getOrder      script
	listOrders    script
	exchangeToken script
	getSession    script
	addStats      script
}

func loadScripts() scripts {
	return scripts{
		createEvent:   eventScript("create_event"),
		updateEvent:   eventScript("update_event"),
		addSlots:      eventScript("add_slots"),
		getEvent:      eventScript("get_event"),
		setCapacity:   eventScript("set_capacity"),
		availability:  eventScript("availability"),
		slotStats:     eventScript("slot_stats"),
		hold:          eventScript("hold"),
		extendHold:    eventScript("extend_hold"),
		releaseHold:   eventScript("release_hold"),
		getHold:       eventScript("get_hold"),
		confirm:       eventScript("confirm"),
		cancelOrder:   eventScript("cancel_order"),
		getOrder:      eventScript("get_order"),
		listOrders:    eventScript("list_orders"),
		exchangeToken: plainScript("exchange_token"),
		getSession:    plainScript("get_session"),
		addStats:      plainScript("add_stats"),
	}
}

// eventScript builds a script that receives the event keys: the constants,
// common.lua, lib.lua and the operation's file.
func eventScript(name string) script {
	constants := fmt.Sprintf("local HOLD_RETENTION_MS = %d\nlocal PURGE_BATCH = %d\n",
		booking.HoldRetention.Milliseconds(), purgeBatch)
	source := constants + readLua("common") + readLua("lib") + readLua(name)
	return script{name: name, Script: redis.NewScript(source)}
}

// plainScript builds a script with its own KEYS: common.lua and the
// operation's file.
func plainScript(name string) script {
	return script{name: name, Script: redis.NewScript(readLua("common") + readLua(name))}
}

func readLua(name string) string {
	source, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic("redisstore: embedded script " + name + " is missing: " + err.Error())
	}
	return string(source) + "\n"
}
