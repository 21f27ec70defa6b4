package loadtest

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckTarget(t *testing.T) {
	cases := []struct {
		target      string
		allowRemote bool
		wantErr     string
	}{
		{target: "http://127.0.0.1:8080"},
		{target: "http://127.5.0.1:8080"},
		{target: "http://[::1]:8080"},
		{target: "http://localhost:8080/"},
		{target: "https://LOCALHOST"},
		{target: "http://192.168.1.10:8080", wantErr: "--allow-remote"},
		{target: "http://example.com", wantErr: "--allow-remote"},
		{target: "http://169.254.169.254", wantErr: "--allow-remote"},
		{target: "http://10.0.0.1:8080", allowRemote: true},
		{target: "ftp://127.0.0.1", wantErr: "invalid"},
		{target: "127.0.0.1:8080", wantErr: "invalid"},
		{target: "http://127.0.0.1:8080/foyer", wantErr: "without a path"},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			err := CheckTarget(tc.target, tc.allowRemote)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// validScenario returns a scenario that passes Validate.
func validScenario() Scenario {
	s := DefaultScenario()
	s.AdminToken = testAdminToken
	s.Arrivals = []Arrival{{Kind: KindBurst, Visitors: 100, Within: time.Second}}
	return s
}

func TestScenarioValidate(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*Scenario)
		wantErr string
	}{
		{name: "valid", edit: func(*Scenario) {}},
		{name: "remote target", edit: func(s *Scenario) { s.Targets = []string{"http://203.0.113.7"} }, wantErr: "--allow-remote"},
		{name: "no targets", edit: func(s *Scenario) { s.Targets = nil }, wantErr: "targets"},
		{name: "no admin token", edit: func(s *Scenario) { s.AdminToken = "" }, wantErr: "FOYER_ADMIN_TOKEN"},
		{name: "no arrivals", edit: func(s *Scenario) { s.Arrivals = nil }, wantErr: "arrivals"},
		{name: "too many visitors", edit: func(s *Scenario) { s.MaxVisitors = 50 }, wantErr: "max_visitors 50"},
		{name: "unbounded duration", edit: func(s *Scenario) { s.MaxDuration = 0 }, wantErr: "max_duration"},
		{name: "profile past max duration", edit: func(s *Scenario) {
			s.Arrivals = []Arrival{{Kind: KindPoisson, Rate: 1, For: time.Hour}}
		}, wantErr: "later than max_duration"},
		{name: "prequeue without opening", edit: func(s *Scenario) {
			s.Arrivals = []Arrival{{Kind: KindPrequeue, Visitors: 10}}
		}, wantErr: "opens_in"},
		{name: "share above one", edit: func(s *Scenario) { s.Behavior.DeclineShare = 1.5 }, wantErr: "decline_share"},
		{name: "unknown kind", edit: func(s *Scenario) { s.Arrivals[0].Kind = "flood" }, wantErr: `kind "flood"`},
		{name: "too many workers", edit: func(s *Scenario) { s.Engine.Workers = MaxWorkersLimit + 1 }, wantErr: "engine.workers"},
		{name: "invalid room", edit: func(s *Scenario) { s.Room = "Main Hall" }, wantErr: "room"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validScenario()
			tc.edit(&s)
			err := s.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestExampleScenarioParses(t *testing.T) {
	s, err := ParseScenario([]byte(ExampleScenario), DefaultScenario())
	if err != nil {
		t.Fatalf("parse example: %v", err)
	}
	s.AdminToken = testAdminToken
	if err := s.Validate(); err != nil {
		t.Fatalf("validate example: %v", err)
	}
	kinds := make([]string, len(s.Arrivals))
	for i, a := range s.Arrivals {
		kinds[i] = a.Kind
	}
	if want := []string{KindPrequeue, KindBurst, KindRamp, KindPoisson}; !slices.Equal(kinds, want) {
		t.Errorf("arrival kinds: got %v, want %v", kinds, want)
	}
	if s.RoomSettings.OpensIn != time.Minute || s.Seed != 42 {
		t.Errorf("opens_in and seed: got %s and %d, want 1m0s and 42", s.RoomSettings.OpensIn, s.Seed)
	}
}

func TestParseScenarioRejectsUnknownField(t *testing.T) {
	_, err := ParseScenario([]byte("room: a\nrate_per_minute: 5\n"), DefaultScenario())
	if err == nil || !strings.Contains(err.Error(), "rate_per_minute") {
		t.Errorf("got %v, want an error naming rate_per_minute", err)
	}
}

func TestArrivalTimes(t *testing.T) {
	arrivals := []Arrival{
		{Kind: KindPrequeue, Visitors: 300, At: time.Second},
		{Kind: KindBurst, Visitors: 500, At: 10 * time.Second, Within: 5 * time.Second},
		{Kind: KindPoisson, Rate: 100, At: 20 * time.Second, For: 10 * time.Second},
		{Kind: KindRamp, FromRate: 0, ToRate: 200, At: 30 * time.Second, For: 10 * time.Second},
	}
	opensIn := 10 * time.Second
	times := ArrivalTimes(arrivals, opensIn, 1_000_000, 9)

	if !slices.IsSorted(times) {
		t.Fatalf("got unsorted times, want sorted")
	}
	if again := ArrivalTimes(arrivals, opensIn, 1_000_000, 9); !slices.Equal(times, again) {
		t.Errorf("same seed: got different times, want the same")
	}
	if other := ArrivalTimes(arrivals, opensIn, 1_000_000, 10); slices.Equal(times, other) {
		t.Errorf("other seed: got the same times, want different ones")
	}

	count := func(from, to time.Duration) int {
		n := 0
		for _, at := range times {
			if at >= from && at < to {
				n++
			}
		}
		return n
	}
	if got := count(time.Second, opensIn); got != 300 {
		t.Errorf("before opening: got %d, want 300", got)
	}
	if got := count(10*time.Second, 15*time.Second); got != 500 {
		t.Errorf("burst: got %d, want 500", got)
	}
	if got := count(20*time.Second, 30*time.Second); math.Abs(float64(got)-1000) > 150 {
		t.Errorf("poisson: got %d, want about 1000", got)
	}
	// The ramp's second half has three times the arrivals of its first.
	first, second := count(30*time.Second, 35*time.Second), count(35*time.Second, 40*time.Second)
	if first+second < 850 || first+second > 1150 || second < 2*first {
		t.Errorf("ramp: got %d then %d, want about 250 then 750", first, second)
	}

	if capped := ArrivalTimes(arrivals, opensIn, 400, 9); len(capped) != 400 {
		t.Errorf("limit 400: got %d times, want 400", len(capped))
	}
}

func TestJarKeepsAndExpiresCookies(t *testing.T) {
	var j jar
	j.update([]*http.Cookie{{Name: "foyer_q_a", Value: "t1"}, {Name: "foyer_b_e", Value: "s1", Expires: time.Now().Add(time.Hour)}})
	j.update([]*http.Cookie{{Name: "foyer_q_a", Value: "t2"}})
	if got, want := j.header(), "foyer_q_a=t2; foyer_b_e=s1"; got != want {
		t.Errorf("header: got %q, want %q", got, want)
	}
	j.update([]*http.Cookie{{Name: "foyer_b_e", MaxAge: -1}})
	if got, want := j.header(), "foyer_q_a=t2"; got != want {
		t.Errorf("after delete: got %q, want %q", got, want)
	}
}

func TestBucketExcess(t *testing.T) {
	cases := []struct {
		name  string
		times []float64
		rate  float64
		burst int
		want  float64
	}{
		{name: "burst then rate", times: []float64{0, 0, 1, 2, 3}, rate: 1, burst: 2, want: 0},
		{name: "one too many at once", times: []float64{0, 0, 0}, rate: 1, burst: 2, want: 1},
		{name: "too fast later", times: []float64{0, 10, 10.1, 10.2, 10.3}, rate: 1, burst: 2, want: 4 - 0.3 - 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := bucketExcess(tc.times, tc.rate, tc.burst)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("excess: got %v, want %v", got, tc.want)
			}
		})
	}
}
