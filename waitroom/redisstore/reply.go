package redisstore

import (
	"fmt"
	"strconv"
)

// replyReader reads the elements of a script's array reply in order and
// keeps the first error.
type replyReader struct {
	values []any
	pos    int
	err    error
}

func asSlice(reply any) []any {
	values, _ := reply.([]any)
	return values
}

func (r *replyReader) more() bool { return r.pos < len(r.values) }

func (r *replyReader) next() any {
	if r.err != nil {
		return nil
	}
	if !r.more() {
		r.err = fmt.Errorf("script reply has %d elements, want more", len(r.values))
		return nil
	}
	v := r.values[r.pos]
	r.pos++
	return v
}

func (r *replyReader) int() int64 {
	v := r.next()
	n, ok := v.(int64)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("script reply element %d is %T, want an integer", r.pos, v)
	}
	return n
}

func (r *replyReader) string() string {
	v := r.next()
	s, ok := v.(string)
	if !ok && r.err == nil {
		r.err = fmt.Errorf("script reply element %d is %T, want a string", r.pos, v)
	}
	return s
}

// float reads a number that the script sent as a decimal string, because
// Redis truncates Lua numbers in replies to integers.
func (r *replyReader) float() float64 {
	text := r.string()
	if r.err != nil {
		return 0
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		r.err = fmt.Errorf("script reply element %d: %w", r.pos, err)
	}
	return f
}

// stringMap converts a flat list of fields and values, as HGETALL returns it
// inside a script, to a map.
func stringMap(reply any) (map[string]string, error) {
	values := asSlice(reply)
	if len(values)%2 != 0 {
		return nil, fmt.Errorf("hash reply has %d elements, want an even number", len(values))
	}
	m := make(map[string]string, len(values)/2)
	for i := 0; i < len(values); i += 2 {
		field, ok1 := values[i].(string)
		value, ok2 := values[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("hash reply element %d is not a string", i+1)
		}
		m[field] = value
	}
	return m, nil
}
