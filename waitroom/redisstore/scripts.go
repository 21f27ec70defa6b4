package redisstore

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// Each room operation is one Lua script, with the helpers of common.lua
// prepended. redis.Script runs a script by EVALSHA and falls back to EVAL
// when the server does not have it cached, for example after a restart.
var (
	//go:embed lua/common.lua
	commonLua string
	//go:embed lua/seed.lua
	seedLua string
	//go:embed lua/create.lua
	createLua string
	//go:embed lua/update.lua
	updateLua string
	//go:embed lua/reset.lua
	resetLua string
	//go:embed lua/snapshot.lua
	snapshotLua string
	//go:embed lua/join.lua
	joinLua string
	//go:embed lua/position.lua
	positionLua string
	//go:embed lua/heartbeat.lua
	heartbeatLua string
	//go:embed lua/admit.lua
	admitLua string
	//go:embed lua/start_session.lua
	startSessionLua string
	//go:embed lua/release.lua
	releaseLua string
	//go:embed lua/append_audit.lua
	appendAuditLua string
	//go:embed lua/swap_controller.lua
	swapControllerLua string
	//go:embed lua/append_decision.lua
	appendDecisionLua string
)

var (
	seedScript           = roomScript(seedLua)
	createScript         = roomScript(createLua)
	updateScript         = roomScript(updateLua)
	resetScript          = roomScript(resetLua)
	snapshotScript       = roomScript(snapshotLua)
	joinScript           = roomScript(joinLua)
	positionScript       = roomScript(positionLua)
	heartbeatScript      = roomScript(heartbeatLua)
	admitScript          = roomScript(admitLua)
	startSessionScript   = roomScript(startSessionLua)
	releaseScript        = roomScript(releaseLua)
	appendAuditScript    = roomScript(appendAuditLua)
	swapControllerScript = roomScript(swapControllerLua)
	appendDecisionScript = roomScript(appendDecisionLua)
)

func roomScript(body string) *redis.Script {
	return redis.NewScript(commonLua + "\n" + body)
}
