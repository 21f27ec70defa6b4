package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"foyer/web/views"
)

// Cookies and lifetimes of the organizer console.
const (
	// adminCookie holds the signed admin session.
	adminCookie = "foyer_admin"
	// loginCookie holds the random value that the sign-in form's CSRF token
	// is bound to, because there is no session yet to bind it to.
	loginCookie = "foyer_admin_login"
	// adminSessionLifetime is how long a sign-in lasts. The session is not
	// extended by use.
	adminSessionLifetime = 8 * time.Hour
	// loginFormLifetime is how long a sign-in form may be sent after it was
	// loaded.
	loginFormLifetime = time.Hour
	// maxConcurrentLogins bounds the bcrypt comparisons running at once, so
	// a flood of sign-in attempts cannot take every CPU.
	maxConcurrentLogins = 4
	// apiTokenActor is the actor that audit entries and logs name for
	// changes made with the admin API's bearer token.
	apiTokenActor = "api-token"
)

// usernamePattern matches valid usernames of admin accounts.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// ValidUsername reports whether name can name an admin account: 1 to 64
// letters, digits, '.', '_', '@' and '-'.
func ValidUsername(name string) bool { return usernamePattern.MatchString(name) }

// adminSession is a signed-in organizer.
type adminSession struct {
	User string
	// ID is random and names the session in CSRF tokens and at logout.
	ID      string
	Expires time.Time
}

// consoleAuth keeps what the console's sign-in needs besides the options.
type consoleAuth struct {
	throttle *loginThrottle
	// slots bounds concurrent bcrypt comparisons.
	slots chan struct{}
	// dummyHash is compared against when the username is unknown, so that
	// rejecting it takes as long as rejecting a wrong password.
	dummyHash []byte

	mu sync.Mutex
	// revoked maps the ids of sessions ended by logout to their expiry.
	revoked map[string]time.Time
}

// newConsoleAuth prepares sign-in for accounts. The dummy hash has the
// highest cost among the accounts' hashes, so unknown usernames cost as
// much time as known ones.
func newConsoleAuth(accounts map[string][]byte) *consoleAuth {
	cost := bcrypt.MinCost
	for _, hash := range accounts {
		if c, err := bcrypt.Cost(hash); err == nil {
			cost = max(cost, c)
		}
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	return &consoleAuth{
		throttle:  newLoginThrottle(),
		slots:     make(chan struct{}, maxConcurrentLogins),
		dummyHash: dummy,
		revoked:   make(map[string]time.Time),
	}
}

// revoke records that the session ended at logout. Entries are dropped
// once the session would have expired anyway, which bounds the map by the
// logouts of one session lifetime.
func (a *consoleAuth) revoke(session adminSession, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()

	for id, expires := range a.revoked {
		if now.After(expires) {
			delete(a.revoked, id)
		}
	}
	a.revoked[session.ID] = session.Expires
}

func (a *consoleAuth) isRevoked(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.revoked[id]
	return ok
}

// consoleEnabled reports whether the organizer console has accounts.
func (s *Server) consoleEnabled() bool { return len(s.opts.AdminAccounts) > 0 }

// encodeAdminSession signs a session as "<key id>.<payload>.<HMAC>", with
// base64url parts. The HMAC also covers the account's password hash, so
// changing a password ends its sessions on every edge.
func (s *Server) encodeAdminSession(session adminSession) string {
	kid, key := s.edge.Keys().Cookies.Current()
	payload := base64.RawURLEncoding.EncodeToString([]byte(
		session.User + "\x00" + session.ID + "\x00" + strconv.FormatInt(session.Expires.Unix(), 10)))
	mac := adminSessionMAC(key, payload, s.opts.AdminAccounts[session.User])
	return kid + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// decodeAdminSession verifies a session cookie. It rejects a value that is
// malformed, signed by an unknown key or for an unknown account, expired at
// now, or ended by logout on this edge. readAdminSession also reads the
// store's record of logouts on other edges.
func (s *Server) decodeAdminSession(value string, now time.Time) (adminSession, bool) {
	kid, rest, ok1 := strings.Cut(value, ".")
	payload, encodedMAC, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return adminSession{}, false
	}
	key, ok := s.edge.Keys().Cookies.Lookup(kid)
	if !ok {
		return adminSession{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return adminSession{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return adminSession{}, false
	}
	hash, ok := s.opts.AdminAccounts[parts[0]]
	if !ok {
		return adminSession{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(encodedMAC)
	if err != nil || !hmac.Equal(mac, adminSessionMAC(key, payload, hash)) {
		return adminSession{}, false
	}

	expires, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !now.Before(time.Unix(expires, 0)) {
		return adminSession{}, false
	}
	session := adminSession{User: parts[0], ID: parts[1], Expires: time.Unix(expires, 0)}
	if s.auth.isRevoked(session.ID) {
		return adminSession{}, false
	}
	return session, true
}

func adminSessionMAC(key []byte, payload string, passwordHash []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("foyer-admin-session\x00"))
	h.Write([]byte(payload))
	h.Write([]byte{0})
	h.Write(passwordHash)
	return h.Sum(nil)
}

// readAdminSession returns the request's valid admin session, if any. A
// session that signed out on another edge is found in the store and then
// remembered on this one. When the store cannot be read, the session is
// let through and a warning logged: a store that is down should not also
// lock organizers out of the console that shows it.
func (s *Server) readAdminSession(c *fiber.Ctx) (adminSession, bool) {
	value := c.Cookies(adminCookie)
	if value == "" || !s.consoleEnabled() {
		return adminSession{}, false
	}
	now := time.Now()
	session, ok := s.decodeAdminSession(value, now)
	if !ok {
		return adminSession{}, false
	}
	if s.signedOutElsewhere(c.UserContext(), session, now) {
		return adminSession{}, false
	}
	return session, true
}

// signedOutElsewhere reports whether the store records that session was
// signed out, on any edge, and then remembers it on this edge too.
func (s *Server) signedOutElsewhere(ctx context.Context, session adminSession, now time.Time) bool {
	revoked, err := s.edge.Store().SessionRevoked(ctx, session.ID)
	if err != nil {
		s.log.Warn("could not check whether the organizer session was signed out on another edge; letting it through", "actor", session.User, "err", err)
		return false
	}
	if revoked {
		s.auth.revoke(session, now)
	}
	return revoked
}

// setConsoleCookie sets a console cookie: HttpOnly, SameSite=Strict, and
// Secure when Options.SecureCookies is set.
func (s *Server) setConsoleCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   s.opts.SecureCookies,
		SameSite: fiber.CookieSameSiteStrictMode,
	})
}

// consoleHeaders keeps console pages out of caches and frames, and lets
// them load scripts and styles from this site only.
func consoleHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
}

// errConsoleOff is the error of every console request when no admin
// account exists.
var errConsoleOff = newError(http.StatusForbidden, "console_disabled",
	"The organizer console is off because no admin account exists. Set FOYER_ADMIN_PASSWORD, or admin_accounts in the configuration file, and restart.")

// requireConsole lets requests with a valid admin session through, and
// checks the CSRF token of every POST. Without a session, a GET goes to the
// sign-in page and anything else is rejected with 401.
func (s *Server) requireConsole(c *fiber.Ctx) error {
	consoleHeaders(c)
	if !s.consoleEnabled() {
		return errConsoleOff
	}

	session, ok := s.readAdminSession(c)
	if !ok {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return c.Redirect("/admin/login?next="+url.QueryEscape(c.OriginalURL()), http.StatusSeeOther)
		}
		return newError(http.StatusUnauthorized, "signed_out", "Your organizer session has ended. Sign in again at /admin/login; nothing was changed.")
	}
	if c.Method() == fiber.MethodPost {
		if err := s.checkCSRF(c, session.ID); err != nil {
			s.log.Warn("admin form rejected: missing or invalid CSRF token", "actor", session.User, "path", c.Path())
			return err
		}
	}
	c.Locals(adminLocal, session)
	return c.Next()
}

// adminLocal is the key of the admin session in a request's locals.
const adminLocal = "foyer.admin"

// currentAdmin returns the session that requireConsole stored.
func currentAdmin(c *fiber.Ctx) adminSession {
	session, _ := c.Locals(adminLocal).(adminSession)
	return session
}

// loginPage handles GET /admin/login.
func (s *Server) loginPage(c *fiber.Ctx) error {
	consoleHeaders(c)
	if !s.consoleEnabled() {
		return errConsoleOff
	}
	next := safeNext(c.Query("next"))
	if _, ok := s.readAdminSession(c); ok {
		return c.Redirect(next, http.StatusSeeOther)
	}
	return s.renderLogin(c, http.StatusOK, views.Login{Next: next})
}

// renderLogin renders the sign-in form with a new form nonce.
func (s *Server) renderLogin(c *fiber.Ctx, status int, v views.Login) error {
	nonce := "l_" + strings.ToLower(rand.Text())
	s.setConsoleCookie(c, loginCookie, nonce, time.Now().Add(loginFormLifetime))
	v.CSRF = s.csrfToken(nonce)
	return render(c, status, views.LoginPage(v))
}

// login handles POST /admin/login.
func (s *Server) login(c *fiber.Ctx) error {
	consoleHeaders(c)
	if !s.consoleEnabled() {
		return errConsoleOff
	}
	nonce := c.Cookies(loginCookie)
	if nonce == "" {
		return s.renderLogin(c, http.StatusForbidden, views.Login{Error: "This sign-in form has expired or did not come from this site. Send it again."})
	}
	if err := s.checkCSRF(c, nonce); err != nil {
		s.log.Warn("admin sign-in rejected: missing or invalid CSRF token", "ip", c.IP())
		return s.renderLogin(c, http.StatusForbidden, views.Login{Error: "This sign-in form has expired or did not come from this site. Send it again."})
	}

	user := strings.Clone(strings.TrimSpace(c.FormValue("username")))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	ip := strings.Clone(c.IP())
	view := views.Login{User: user, Next: next}
	if !ValidUsername(user) {
		user = "" // not an account, and not worth a throttle entry of its own
	}
	keys := []string{"ip:" + ip}
	if user != "" {
		keys = append(keys, "user:"+strings.ToLower(user))
	}

	now := time.Now()
	if wait := s.auth.throttle.wait(now, keys...); wait > 0 {
		return s.loginThrottled(c, view, user, ip, wait)
	}

	select {
	case s.auth.slots <- struct{}{}:
	default:
		c.Set(fiber.HeaderRetryAfter, "1")
		view.Error = "Many people are signing in at this moment. Send the form again in a second."
		return s.renderLogin(c, http.StatusServiceUnavailable, view)
	}
	ok := s.checkPassword(user, password)
	<-s.auth.slots

	if !ok {
		wait := s.auth.throttle.fail(time.Now(), keys...)
		s.log.Info("admin sign-in failed", "actor", user, "ip", ip)
		view.Error = "The username or password is wrong."
		if wait > 0 {
			return s.loginThrottled(c, view, user, ip, wait)
		}
		return s.renderLogin(c, http.StatusUnauthorized, view)
	}

	s.auth.throttle.succeed(keys...)
	session := adminSession{User: user, ID: "a_" + strings.ToLower(rand.Text()), Expires: time.Now().Add(adminSessionLifetime)}
	s.setConsoleCookie(c, adminCookie, s.encodeAdminSession(session), session.Expires)
	s.setConsoleCookie(c, loginCookie, "", time.Unix(0, 0))
	s.log.Info("admin signed in", "actor", user, "ip", ip)
	return c.Redirect(next, http.StatusSeeOther)
}

// loginThrottled responds with 429 and Retry-After while failed sign-ins
// from the address or for the account are being slowed down.
func (s *Server) loginThrottled(c *fiber.Ctx, view views.Login, user, ip string, wait time.Duration) error {
	seconds := int((wait + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	s.log.Warn("admin sign-in slowed down after repeated failures", "actor", user, "ip", ip, "retry_after_seconds", seconds)
	view.Error = strings.TrimSpace(view.Error + " Too many failed sign-ins: wait " + strconv.Itoa(seconds) + " seconds before you try again.")
	return s.renderLogin(c, http.StatusTooManyRequests, view)
}

// checkPassword reports whether password is the account's. An unknown or
// empty username is compared against a dummy hash, so that it takes as long
// as a known one.
func (s *Server) checkPassword(user, password string) bool {
	hash, known := s.opts.AdminAccounts[user]
	if !known {
		hash = s.auth.dummyHash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	return known && err == nil
}

// logout handles POST /admin/logout. The session ends on this edge at once,
// on the others through the store, and in the browser, which drops the
// cookie. If the store cannot record it, other edges accept a copy of the
// cookie until the session expires, and the failure is logged.
func (s *Server) logout(c *fiber.Ctx) error {
	session := currentAdmin(c)
	s.auth.revoke(session, time.Now())
	if err := s.edge.Store().RevokeSession(c.UserContext(), session.ID, session.Expires); err != nil {
		s.log.Error("could not record the sign-out in the store; other edges accept copies of this session's cookie until it expires", "actor", session.User, "expires", session.Expires, "err", err)
	}
	s.setConsoleCookie(c, adminCookie, "", time.Unix(0, 0))
	s.log.Info("admin signed out", "actor", session.User, "ip", c.IP())
	return c.Redirect("/admin/login", http.StatusSeeOther)
}

// safeNext returns path when it is a console page on this site, and /admin
// otherwise, so the sign-in form cannot send anyone elsewhere.
func safeNext(path string) string {
	console := path == "/admin" || strings.HasPrefix(path, "/admin/") || strings.HasPrefix(path, "/admin?")
	if !console || strings.HasPrefix(path, "/admin/login") || strings.ContainsAny(path, "\\\r\n") {
		return "/admin"
	}
	u, err := url.Parse(path)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/admin"
	}
	return strings.Clone(path)
}

// errAPICSRF rejects an admin API change sent with a session cookie but
// without the session's CSRF token.
var errAPICSRF = newError(http.StatusForbidden, "csrf_invalid", "Changes through the admin API with an admin session need the session's CSRF token in the X-CSRF-Token header.")

// requireAdmin lets admin API requests through that carry the bearer token,
// or an admin session cookie. A change sent with a session must also carry
// the session's CSRF token in X-CSRF-Token.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	if s.opts.AdminToken == "" && !s.consoleEnabled() {
		return newError(http.StatusForbidden, "admin_disabled", "The admin API is off. Set FOYER_ADMIN_TOKEN to turn it on.")
	}

	if bearer, ok := bearerToken(c); ok {
		if s.opts.AdminToken == "" {
			return newError(http.StatusForbidden, "admin_disabled", "The admin API's bearer token is off. Set FOYER_ADMIN_TOKEN to turn it on, or sign in to the console at /admin.")
		}
		if !constantTimeEqual(bearer, s.opts.AdminToken) {
			return unauthorizedAdmin(c)
		}
		c.Locals(actorLocal, apiTokenActor)
		return c.Next()
	}

	session, ok := s.readAdminSession(c)
	if !ok {
		return unauthorizedAdmin(c)
	}
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead && !s.validCSRF(c.Get("X-CSRF-Token"), session.ID) {
		return errAPICSRF
	}
	c.Locals(actorLocal, session.User)
	return c.Next()
}

func unauthorizedAdmin(c *fiber.Ctx) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="foyer-admin"`)
	return newError(http.StatusUnauthorized, "unauthorized", "Send the admin token as 'Authorization: Bearer <token>', or sign in to the console at /admin.")
}

// actorLocal is the key of the admin API caller's name in a request's locals.
const actorLocal = "foyer.actor"

// apiActor returns who is calling the admin API: apiTokenActor, or the
// username of an admin session.
func apiActor(c *fiber.Ctx) string {
	actor, _ := c.Locals(actorLocal).(string)
	if actor == "" {
		return apiTokenActor
	}
	return actor
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
