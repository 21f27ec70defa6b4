package web_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/waitroom"
)

// admittedBrowser joins room in a browser, admits it with one admission
// step and follows the waiting page's redirect, which sets the admission
// cookie. It returns the browser and its visitor id.
func admittedBrowser(t *testing.T, ts *testServer, room, event string) (*http.Client, string) {
	t.Helper()
	client := browserClient(t)

	if res := ts.get(t, client, "/r/"+room); res.status != http.StatusSeeOther {
		t.Fatalf("join page: got status %d, want 303", res.status)
	}
	if got := len(ts.tick(t, room).Admitted); got != 1 {
		t.Fatalf("admission step: got %d admitted, want 1", got)
	}

	res := ts.get(t, client, "/r/"+room+"/wait")
	if res.status != http.StatusSeeOther {
		t.Fatalf("wait page of an admitted visitor: got status %d, want 303:\n%s", res.status, res.body)
	}
	if got, want := res.header.Get("Location"), "/e/"+event; got != want {
		t.Fatalf("wait page of an admitted visitor: got Location %q, want %q", got, want)
	}
	token := res.cookie("foyer_a_" + room)
	if token == "" {
		t.Fatalf("wait page of an admitted visitor: got no foyer_a_%s cookie", room)
	}
	for _, line := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "foyer_a_"+room+"=") && (!strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax")) {
			t.Errorf("admission cookie: got Set-Cookie %q, want HttpOnly and SameSite=Lax", line)
		}
	}
	claims, err := waitroom.VerifyAdmissionToken(ts.Edge.Keys().Signing, token, room, time.Now())
	if err != nil {
		t.Fatalf("admission cookie does not verify: %v", err)
	}
	return client, claims.Visitor()
}

func TestEntryPageAdmitted(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Title: "Summer Exhibition", Event: "expo"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		client, _ := admittedBrowser(t, ts, "museum", "expo")

		res := ts.get(t, client, "/e/expo")

		if res.status != http.StatusOK {
			t.Fatalf("got status %d, want 200:\n%s", res.status, res.body)
		}
		if !res.isHTML() {
			t.Errorf("got Content-Type %q, want an HTML page", res.header.Get("Content-Type"))
		}
		if got := res.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("got Cache-Control %q, want no-store", got)
		}
		for _, want := range []string{`id="entry-ok"`, "Welcome to booking: Summer Exhibition", "minutes to start booking"} {
			if !strings.Contains(string(res.body), want) {
				t.Errorf("page does not contain %q:\n%s", want, res.body)
			}
		}
	})
}

func TestEntryPageRejects(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo"})
		seedRoom(t, st.store, waitroom.Settings{ID: "gallery", Event: "art"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		_, visitor := admittedBrowser(t, ts, "museum", "expo")
		signing := ts.Edge.Keys().Signing
		now := time.Now()

		issue := func(keys *waitroom.SigningKeys, room, event string, issued, expires time.Time) string {
			t.Helper()
			token, err := waitroom.IssueAdmissionToken(keys, room, event, visitor, issued, expires)
			if err != nil {
				t.Fatalf("issue admission token: %v", err)
			}
			return token
		}
		real := issue(signing, "museum", "expo", now, now.Add(10*time.Minute))
		strangerKeys := waitroom.TemporaryKeys(now)

		cases := []struct {
			name      string
			token     string
			wantTitle string
		}{
			{name: "no cookie", wantTitle: "Please wait in line first"},
			{name: "forged signature", token: forgeSignature(t, real), wantTitle: "Your admission could not be verified"},
			{name: "another server's key", token: issue(strangerKeys.Signing, "museum", "expo", now, now.Add(10*time.Minute)), wantTitle: "Your admission could not be verified"},
			{name: "garbage", token: "not.a.token", wantTitle: "Your admission could not be verified"},
			{name: "expired", token: issue(signing, "museum", "expo", now.Add(-20*time.Minute), now.Add(-10*time.Minute)), wantTitle: "Your admission has expired"},
			{name: "other room", token: issue(signing, "gallery", "art", now, now.Add(10*time.Minute)), wantTitle: "This admission is for another waiting room"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req := newRequest(t, http.MethodGet, ts.URL+"/e/expo", nil)
				if tc.token != "" {
					req.AddCookie(&http.Cookie{Name: "foyer_a_museum", Value: tc.token})
				}
				res := send(t, nil, req)

				if res.status != http.StatusForbidden {
					t.Errorf("got status %d, want 403", res.status)
				}
				if !strings.Contains(string(res.body), "<h1>"+tc.wantTitle+"</h1>") {
					t.Errorf("page does not have the heading %q:\n%s", tc.wantTitle, res.body)
				}
				if !strings.Contains(string(res.body), `href="/r/museum"`) {
					t.Errorf("page does not link to the waiting room /r/museum:\n%s", res.body)
				}
				if strings.Contains(string(res.body), `id="entry-ok"`) {
					t.Errorf("page shows the booking entry:\n%s", res.body)
				}
			})
		}

		if res := ts.get(t, nil, "/e/nowhere"); res.status != http.StatusNotFound {
			t.Errorf("unknown event: got status %d, want 404", res.status)
		}
		if res := ts.get(t, nil, "/e/Bad_Event"); res.status != http.StatusBadRequest {
			t.Errorf("malformed event id: got status %d, want 400", res.status)
		}
	})
}

// forgeSignature returns token with its signature's first byte changed.
func forgeSignature(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d dot-separated parts, want 3", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("token signature is not base64url: %v", err)
	}
	sig[0] ^= 0xff
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

func TestJWKSVerifiesAdmissionToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, st openedStore) {
		seedRoom(t, st.store, waitroom.Settings{ID: "museum", Event: "expo"})
		ts := startServer(t, st.store, serverOptions{noLoop: true})
		joined := ts.mustJoin(t, "museum")
		ts.tick(t, "museum")
		status, res := ts.status(t, "museum", joined.Ticket)
		if status.State != "admitted" || status.AdmissionToken == "" {
			t.Fatalf("status after a step: got state %q and token %q, want admitted with a token:\n%s", status.State, status.AdmissionToken, res.body)
		}

		res = ts.get(t, nil, "/.well-known/jwks.json")
		if res.status != http.StatusOK {
			t.Fatalf("JWKS: got status %d, want 200", res.status)
		}
		if !res.isJSON() {
			t.Errorf("JWKS: got Content-Type %q, want JSON", res.header.Get("Content-Type"))
		}
		var set struct {
			Keys []struct {
				KeyType   string `json:"kty"`
				Curve     string `json:"crv"`
				X         string `json:"x"`
				KeyID     string `json:"kid"`
				Use       string `json:"use"`
				Algorithm string `json:"alg"`
			} `json:"keys"`
		}
		res.decode(t, &set)

		parts := strings.Split(status.AdmissionToken, ".")
		if len(parts) != 3 {
			t.Fatalf("admission token has %d dot-separated parts, want 3", len(parts))
		}
		var header struct {
			Algorithm string `json:"alg"`
			KeyID     string `json:"kid"`
		}
		decodeSegment(t, parts[0], &header)
		if header.Algorithm != "EdDSA" {
			t.Errorf("token header: got alg %q, want EdDSA", header.Algorithm)
		}

		verified := false
		for _, key := range set.Keys {
			if key.KeyID != header.KeyID {
				continue
			}
			if key.KeyType != "OKP" || key.Curve != "Ed25519" || key.Algorithm != "EdDSA" || key.Use != "sig" {
				t.Errorf("key %s: got kty %q crv %q alg %q use %q, want OKP Ed25519 EdDSA sig", key.KeyID, key.KeyType, key.Curve, key.Algorithm, key.Use)
			}
			pub, err := base64.RawURLEncoding.DecodeString(key.X)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				t.Fatalf("key %s: x is not a base64url Ed25519 public key: %v", key.KeyID, err)
			}
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatalf("token signature is not base64url: %v", err)
			}
			signed := []byte(parts[0] + "." + parts[1])
			verified = ed25519.Verify(ed25519.PublicKey(pub), signed, sig)
			if ed25519.Verify(ed25519.PublicKey(pub), []byte(parts[0]+"."+parts[1]+"x"), sig) {
				t.Errorf("key %s verifies a signature over other content", key.KeyID)
			}
		}
		if !verified {
			t.Errorf("no key in the JWKS with kid %q verifies the admission token; keys: %+v", header.KeyID, set.Keys)
		}

		var claims struct {
			Subject string `json:"sub"`
			Room    string `json:"room"`
			Event   string `json:"event"`
		}
		decodeSegment(t, parts[1], &claims)
		if claims.Subject != joined.Visitor || claims.Room != "museum" || claims.Event != "expo" {
			t.Errorf("token claims: got sub %q room %q event %q, want %q museum expo", claims.Subject, claims.Room, claims.Event, joined.Visitor)
		}
	})
}

// decodeSegment decodes one base64url JSON segment of a JWT into v.
func decodeSegment(t *testing.T, segment string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		t.Fatalf("JWT segment is not base64url: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("JWT segment is not JSON: %v\n%s", err, raw)
	}
}
