package redisstore

import (
	"fmt"
	"strconv"
	"time"

	"foyer/waitroom"
)

// Fields of the meta hash that hold settings. Durations and OpensAt are
// whole microseconds; an empty opens_at_us means the zero time. Booleans are
// "1" or "0".
const (
	fieldID              = "id"
	fieldTitle           = "title"
	fieldEvent           = "event"
	fieldOpensAt         = "opens_at_us"
	fieldRatePerMinute   = "rate_per_minute"
	fieldBurst           = "burst"
	fieldMaxActive       = "max_active"
	fieldAdmissionWindow = "admission_window_us"
	fieldSessionLifetime = "session_lifetime_us"
	fieldHeartbeatGrace  = "heartbeat_grace_us"
	fieldMessage         = "message"
	fieldPaused          = "paused"
	fieldClosed          = "closed"
	fieldSoldOut         = "sold_out"
	fieldMode            = "mode"

	// fieldSettingsVersion goes up by one whenever a script changes a
	// setting, so UpdateRoom can tell whether the settings it validated are
	// still current when it writes.
	fieldSettingsVersion = "settings_version"
)

// encodeSettings returns the settings as alternating fields and values, the
// form the seed, create and update scripts take.
func encodeSettings(s waitroom.Settings) []any {
	opensAt := ""
	if !s.OpensAt.IsZero() {
		opensAt = strconv.FormatInt(s.OpensAt.UnixMicro(), 10)
	}
	return []any{
		fieldID, s.ID,
		fieldTitle, s.Title,
		fieldEvent, s.Event,
		fieldOpensAt, opensAt,
		fieldRatePerMinute, strconv.FormatFloat(s.RatePerMinute, 'g', -1, 64),
		fieldBurst, strconv.Itoa(s.Burst),
		fieldMaxActive, strconv.Itoa(s.MaxActive),
		fieldAdmissionWindow, strconv.FormatInt(s.AdmissionWindow.Microseconds(), 10),
		fieldSessionLifetime, strconv.FormatInt(s.SessionLifetime.Microseconds(), 10),
		fieldHeartbeatGrace, strconv.FormatInt(s.HeartbeatGrace.Microseconds(), 10),
		fieldMessage, s.Message,
		fieldPaused, formatBool(s.Paused),
		fieldClosed, formatBool(s.Closed),
		fieldSoldOut, formatBool(s.SoldOut),
		fieldMode, string(s.Mode),
	}
}

func formatBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// storedSettings truncates OpensAt and the durations to the microsecond, as
// encodeSettings keeps them, so callers see the settings as they are stored.
func storedSettings(s waitroom.Settings) waitroom.Settings {
	s.OpensAt = s.OpensAt.Truncate(time.Microsecond)
	s.AdmissionWindow = s.AdmissionWindow.Truncate(time.Microsecond)
	s.SessionLifetime = s.SessionLifetime.Truncate(time.Microsecond)
	s.HeartbeatGrace = s.HeartbeatGrace.Truncate(time.Microsecond)
	return s
}

// decodeSettings reads settings from the meta hash's fields. A missing
// numeric field reads as zero.
func decodeSettings(meta map[string]string) (waitroom.Settings, error) {
	d := decoder{meta: meta}
	s := waitroom.Settings{
		ID:              meta[fieldID],
		Title:           meta[fieldTitle],
		Event:           meta[fieldEvent],
		OpensAt:         d.time(fieldOpensAt),
		RatePerMinute:   d.float(fieldRatePerMinute),
		Burst:           int(d.int(fieldBurst)),
		MaxActive:       int(d.int(fieldMaxActive)),
		AdmissionWindow: d.duration(fieldAdmissionWindow),
		SessionLifetime: d.duration(fieldSessionLifetime),
		HeartbeatGrace:  d.duration(fieldHeartbeatGrace),
		Message:         meta[fieldMessage],
		Paused:          meta[fieldPaused] == "1",
		Closed:          meta[fieldClosed] == "1",
		SoldOut:         meta[fieldSoldOut] == "1",
		Mode:            waitroom.Mode(meta[fieldMode]),
	}
	return s, d.err
}

// decoder parses numeric fields of a hash and keeps the first error.
type decoder struct {
	meta map[string]string
	err  error
}

func (d *decoder) int(field string) int64 {
	text, ok := d.meta[field]
	if !ok || text == "" {
		return 0
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("field %s: %w", field, err)
	}
	return n
}

func (d *decoder) float(field string) float64 {
	text, ok := d.meta[field]
	if !ok || text == "" {
		return 0
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("field %s: %w", field, err)
	}
	return f
}

func (d *decoder) duration(field string) time.Duration {
	return time.Duration(d.int(field)) * time.Microsecond
}

func (d *decoder) time(field string) time.Time {
	if d.meta[field] == "" {
		return time.Time{}
	}
	return time.UnixMicro(d.int(field)).UTC()
}

// fromMicros converts microseconds since the Unix epoch, as the scripts
// return them, to a UTC time; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
