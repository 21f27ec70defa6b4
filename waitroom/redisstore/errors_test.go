package redisstore

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"foyer/waitroom"
)

// replyError is an error reply from the server, as go-redis returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestWrapError(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "unix", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want []error
		not  []error
	}{
		{"room not found", replyError("NOROOM room not found"), []error{waitroom.ErrRoomNotFound}, []error{waitroom.ErrUnavailable}},
		{"room exists", replyError("ROOMEXISTS room already exists"), []error{waitroom.ErrRoomExists}, nil},
		{"closed", replyError("CLOSED room is closed"), []error{waitroom.ErrRoomClosed}, nil},
		{"sold out", replyError("SOLDOUT room is sold out"), []error{waitroom.ErrRoomSoldOut}, nil},
		{"visitor not found", replyError("NOVISITOR visitor has no place"), []error{waitroom.ErrVisitorNotFound}, nil},
		{"loading", replyError("LOADING Redis is loading the dataset in memory"), []error{waitroom.ErrUnavailable}, nil},
		{"busy script", replyError("BUSY Redis is busy running a script"), []error{waitroom.ErrUnavailable}, nil},
		{"out of memory", replyError("OOM command not allowed when used memory > 'maxmemory'"), []error{waitroom.ErrUnavailable}, nil},
		{"script bug", replyError("ERR user_script:1: attempt to compare nil with number"), nil, []error{waitroom.ErrUnavailable, waitroom.ErrRoomNotFound}},
		{"refused dial", dialErr, []error{waitroom.ErrUnavailable, syscall.ECONNREFUSED}, nil},
		{"closed client", redis.ErrClosed, []error{waitroom.ErrUnavailable, redis.ErrClosed}, nil},
		{"pool timeout", redis.ErrPoolTimeout, []error{waitroom.ErrUnavailable}, nil},
		{"deadline", context.DeadlineExceeded, []error{waitroom.ErrUnavailable, context.DeadlineExceeded}, nil},
		{"canceled by caller", context.Canceled, []error{context.Canceled}, []error{waitroom.ErrUnavailable}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := wrapError(`join room "hall"`, c.err)
			for _, target := range c.want {
				if !errors.Is(got, target) {
					t.Errorf("wrapError(%v) = %v: got errors.Is(%v) false, want true", c.err, got, target)
				}
			}
			for _, target := range c.not {
				if errors.Is(got, target) {
					t.Errorf("wrapError(%v) = %v: got errors.Is(%v) true, want false", c.err, got, target)
				}
			}
		})
	}
}

func TestClosedClientUnavailable(t *testing.T) {
	client, err := NewClient("unix:///nonexistent/redis.sock", ClientOptions{})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if err := client.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	_, err = New(client).Join(t.Context(), "hall", "a", 0)
	if !errors.Is(err, waitroom.ErrUnavailable) {
		t.Errorf("Join on a closed client: got %v, want ErrUnavailable", err)
	}
}
