package loadtest

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// maxBytesPerWaitingVisitor bounds what one waiting visitor may cost the
// load tester, so that 50,000 of them fit easily in one process.
const maxBytesPerWaitingVisitor = 1024

// TestWaitingVisitorMemory measures what the load tester keeps per waiting
// visitor: the visitor struct, its id, its cookie jar holding a queue
// ticket as long as Foyer's, and its scheduler entry.
func TestWaitingVisitorMemory(t *testing.T) {
	const n = 50_000
	// A queue ticket is a key id, a payload and an HMAC in base64url; 140
	// characters is longer than the ones Foyer issues.
	ticket := strings.Repeat("x", 140)

	before := liveHeap()
	visitors := make([]visitor, n)
	sched := newSchedule(n)
	for i := range visitors {
		v := &visitors[i]
		v.id = fmt.Sprintf("%022d", i)
		// Each cookie string is allocated separately, as when the jar is
		// filled from a parsed Set-Cookie header.
		v.jar.update([]*http.Cookie{{Name: strings.Clone("foyer_q_rehearsal"), Value: strings.Clone(ticket), Expires: time.Now().Add(24 * time.Hour)}})
		v.phase = phaseWait
		sched.add(time.Duration(i)*time.Millisecond, int32(i))
	}
	after := liveHeap()

	perVisitor := float64(after-before) / n
	t.Logf("%d waiting visitors: %.0f bytes each (visitor struct %d bytes, scheduler entry %d bytes)",
		n, perVisitor, unsafe.Sizeof(visitor{}), unsafe.Sizeof(entry{}))
	if perVisitor > maxBytesPerWaitingVisitor {
		t.Errorf("bytes per waiting visitor: got %.0f, want at most %d", perVisitor, maxBytesPerWaitingVisitor)
	}
	runtime.KeepAlive(visitors)
	runtime.KeepAlive(sched)
}
