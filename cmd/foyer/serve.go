package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"foyer/booking"
	bookingmem "foyer/booking/memstore"
	bookingredis "foyer/booking/redisstore"
	"foyer/waitroom"
	"foyer/waitroom/memstore"
	"foyer/waitroom/redisstore"
	"foyer/web"
)

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", getenv("FOYER_CONFIG"), "YAML configuration file (env FOYER_CONFIG)")
	listen := fs.String("listen", "", "HTTP listen address, host:port (env FOYER_LISTEN; default 127.0.0.1:8080)")
	redisURL := fs.String("redis", "", "Redis URL for the production store; without it the in-memory store is used (env FOYER_REDIS_URL)")
	bookingRedisURL := fs.String("booking-redis", "", "Redis URL for booking data, run with appendfsync always; default --redis (env FOYER_BOOKING_REDIS_URL)")
	keysDir := fs.String("keys", "", "directory of keys made by 'foyer keys'; without it temporary keys are made (env FOYER_KEYS_DIR)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (env FOYER_LOG_LEVEL; default info)")
	rehearsalConcurrency := fs.Int("rehearsal-concurrency", 0, "booking holds and confirmations that may run at once, for a rehearsal; 0 is no limit (env FOYER_REHEARSAL_CONCURRENCY)")
	rehearsalServiceTime := fs.Duration("rehearsal-service-time", 0, "time added to each booking hold and confirmation, for a rehearsal, such as 100ms; 0 adds nothing (env FOYER_REHEARSAL_SERVICE_TIME)")
	rehearsalMaxWait := fs.Duration("rehearsal-max-wait", 0, "longest a rehearsal hold or confirmation waits for a place before it fails as unavailable, such as 1s; 0 waits until the request's deadline (env FOYER_REHEARSAL_MAX_WAIT)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q: options start with --", fs.Arg(0))
	}

	cfg := DefaultConfig()
	if *configPath != "" {
		var err error
		if cfg, err = LoadConfigFile(*configPath, cfg); err != nil {
			return cfg, err
		}
	}
	cfg, err := ApplyEnv(cfg, getenv)
	if err != nil {
		return cfg, err
	}
	override := func(field *string, value string) {
		if value != "" {
			*field = value
		}
	}
	override(&cfg.Listen, *listen)
	override(&cfg.RedisURL, *redisURL)
	override(&cfg.BookingRedisURL, *bookingRedisURL)
	override(&cfg.KeysDir, *keysDir)
	override(&cfg.LogLevel, *logLevel)
	// Zero is a valid value for both, so only flags given on the command
	// line override the file and the environment.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "rehearsal-concurrency":
			cfg.RehearsalConcurrency = *rehearsalConcurrency
		case "rehearsal-service-time":
			cfg.RehearsalServiceTime = *rehearsalServiceTime
		case "rehearsal-max-wait":
			cfg.RehearsalMaxWait = *rehearsalMaxWait
		}
	})
	if len(cfg.Rooms) == 0 {
		cfg.Rooms = defaultRooms()
		cfg.demoEvent = len(cfg.Events) == 0
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}

	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openRedis connects to url with an explicit pool size and short timeouts,
// so a lost Redis fails requests fast instead of hanging them, and checks
// that the server replies to PING.
func openRedis(ctx context.Context, url string, poolSize int) (*redis.Client, error) {
	client, err := redisstore.NewClient(url, redisstore.ClientOptions{PoolSize: poolSize})
	if err != nil {
		return nil, err
	}

	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		var reply redis.Error
		if errors.As(err, &reply) {
			// The server replied, so the address is right but the URL's
			// database, user or password is not.
			return nil, fmt.Errorf("Redis at %s rejected the connection: %w; check the database number, user and password in the URL", redactURL(url), err)
		}
		return nil, fmt.Errorf("cannot reach Redis at %s: %w; start redis-server there or fix --redis / FOYER_REDIS_URL", redactURL(url), err)
	}
	return client, nil
}

// stores are the stores the process runs on and how to close them.
type stores struct {
	rooms   waitroom.Store
	booking booking.Store
	ready   func(context.Context) error
	closers []func()
}

func (s stores) close() {
	for _, c := range s.closers {
		c()
	}
}

func openStores(ctx context.Context, cfg Config, log *slog.Logger) (stores, error) {
	if cfg.RedisURL == "" {
		log.Warn("running on the in-memory store: all places, admissions and bookings are lost when this process stops; use --redis for production")
		return stores{
			rooms:   memstore.New(nil),
			booking: bookingmem.New(bookingmem.Options{}),
			ready:   func(context.Context) error { return nil },
		}, nil
	}

	queue, err := openRedis(ctx, cfg.RedisURL, cfg.RedisPoolSize)
	if err != nil {
		return stores{}, err
	}
	log.Info("connected to Redis", "url", redactURL(cfg.RedisURL), "pool_size", cfg.RedisPoolSize)
	st := stores{rooms: redisstore.New(queue), closers: []func(){func() { _ = queue.Close() }}}

	bookingClient := queue
	if cfg.BookingRedisURL != "" {
		bookingClient, err = openRedis(ctx, cfg.BookingRedisURL, cfg.RedisPoolSize)
		if err != nil {
			st.close()
			return stores{}, fmt.Errorf("booking Redis: %w", err)
		}
		st.closers = append(st.closers, func() { _ = bookingClient.Close() })
		log.Info("connected to the booking Redis", "url", redactURL(cfg.BookingRedisURL))
	}
	warnWithoutFsync(ctx, bookingClient, log)
	st.booking = bookingredis.New(bookingClient)

	st.ready = func(ctx context.Context) error {
		if err := queue.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("queue Redis: %w", err)
		}
		if err := bookingClient.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("booking Redis: %w", err)
		}
		return nil
	}
	return st, nil
}

// warnWithoutFsync logs a warning when the Redis that keeps booking data
// does not fsync every write, because a confirmed booking could then be lost
// in a crash. A server that refuses CONFIG GET is left unchecked.
func warnWithoutFsync(ctx context.Context, client *redis.Client, log *slog.Logger) {
	values, err := client.ConfigGet(ctx, "app*").Result()
	if err != nil {
		log.Info("could not read the booking Redis persistence settings; make sure it runs with appendonly yes and appendfsync always", "err", err)
		return
	}
	if values["appendonly"] != "yes" || values["appendfsync"] != "always" {
		log.Warn("the Redis that keeps booking data does not fsync every write, so confirmed bookings can be lost in a crash; run it with appendonly yes and appendfsync always (deploy/redis-booking.conf)",
			"appendonly", values["appendonly"], "appendfsync", values["appendfsync"])
	}
}

func loadKeys(cfg Config, log *slog.Logger) (waitroom.Keys, error) {
	if cfg.KeysDir == "" {
		log.Warn("no keys configured: using temporary keys, so admission tokens and queue tickets will not survive a restart or verify on other edges; run 'foyer keys --dir DIR' and start with --keys DIR")
		return waitroom.TemporaryKeys(time.Now()), nil
	}
	return waitroom.LoadKeys(cfg.KeysDir)
}

// serve runs the edge until ctx ends, then shuts down in order: stop taking
// joins, finish requests in flight within the shutdown timeout, stop the
// admission loop, close the stores.
func serve(ctx context.Context, cfg Config, logOut io.Writer) error {
	log := newLogger(cfg, logOut)
	redis.SetLogger(newRedisLogger(log))

	// Bind the port first, so a port in use fails at once, before any
	// store is touched or any room is seeded.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w; stop the process that uses it or choose another address with --listen", cfg.Listen, errors.Unwrap(err))
	}
	defer ln.Close()

	keys, err := loadKeys(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	rehearsal := throttleForRehearsal(cfg, st.booking, log)
	if rehearsal != nil {
		st.booking = rehearsal
	}

	seeds := make([]waitroom.Settings, 0, len(cfg.Rooms))
	for _, rc := range cfg.Rooms {
		settings, _ := rc.Settings() // Validate has checked it.
		seeds = append(seeds, settings)
		effective, err := st.rooms.SeedRoom(ctx, settings)
		if err != nil {
			return fmt.Errorf("seed room %s: %w", rc.ID, err)
		}
		log.Info("room ready", "room", effective.ID, "event", effective.Event, "rate_per_minute", effective.RatePerMinute, "state", effective.State(time.Now()))
	}

	if err := createEvents(ctx, st.booking, cfg.Events, cfg.demoEvent, log); err != nil {
		return err
	}
	warnMissingEvents(ctx, st.booking, seeds, log)
	bookingService, err := newBookingService(cfg, st, log)
	if err != nil {
		return err
	}

	accounts, err := cfg.adminAccounts()
	if err != nil {
		return err
	}

	controllers, laws, err := roomControllers(cfg.Rooms)
	if err != nil {
		return err
	}

	metrics := web.NewMetrics()
	edgeConfig := waitroom.EdgeConfig{
		Tick:              cfg.Tick,
		Rooms:             seeds,
		Controllers:       controllers,
		DefaultController: defaultController(st.booking, laws, log),
	}
	edge := waitroom.NewEdge(st.rooms, keys, edgeConfig, log, metrics)
	metrics.WatchEdge(edge)
	if cfg.ProxyHeader != "" && len(cfg.TrustedProxies) == 0 {
		log.Warn("the client address is taken from the proxy header of any request, so a client that reaches this edge directly can set its own; list the proxies in trusted_proxies", "proxy_header", cfg.ProxyHeader)
	}
	server := web.New(web.Options{
		Rehearsal:           rehearsal,
		Edge:                edge,
		AdminToken:          cfg.AdminToken,
		Log:                 log,
		Metrics:             metrics,
		SecureCookies:       cfg.SecureCookies,
		JoinsPerMinutePerIP: cfg.JoinsPerMinutePerIP,
		ProxyHeader:         cfg.ProxyHeader,
		TrustedProxies:      cfg.TrustedProxies,
		Ready:               st.ready,
		Booking:             bookingService,
		AdminAccounts:       accounts,
	})
	if cfg.AdminToken == "" {
		log.Info("admin API bearer token is off: set FOYER_ADMIN_TOKEN to turn it on")
	} else {
		log.Info("admin API is on at /api/v1/admin with the bearer token of FOYER_ADMIN_TOKEN")
	}
	if len(accounts) == 0 {
		log.Info("organizer console is off: set FOYER_ADMIN_PASSWORD, or admin_accounts in the configuration file, to turn it on")
	} else {
		log.Info("organizer console is on at /admin", "accounts", len(accounts))
	}

	edgeCtx, stopEdge := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		edge.Run(edgeCtx)
	}()
	go func() {
		defer wg.Done()
		bookingService.Recorder.Run(edgeCtx, 2*time.Second)
	}()

	served := make(chan error, 1)
	go func() { served <- server.App().Listener(ln) }()
	log.Info("foyer started", "version", buildVersion(), "listen", ln.Addr().String(), "store", storeName(cfg))

	select {
	case err = <-served:
		log.Error("HTTP server stopped unexpectedly", "err", err)
	case <-ctx.Done():
		log.Info("stopping: no new joins, finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
		if serr := server.Shutdown(cfg.ShutdownTimeout); serr != nil {
			log.Warn("shutdown timed out with requests still open", "err", serr)
		}
		err = <-served
	}

	stopEdge()
	wg.Wait()
	log.Info("foyer stopped")
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// throttleForRehearsal wraps store in a booking.RehearsalStore when either
// rehearsal setting is on, so the booking core has a known capacity. It
// returns nil when both are off.
func throttleForRehearsal(cfg Config, store booking.Store, log *slog.Logger) *booking.RehearsalStore {
	if cfg.RehearsalConcurrency == 0 && cfg.RehearsalServiceTime == 0 {
		return nil
	}

	attrs := []any{"concurrency", cfg.RehearsalConcurrency, "service_time", cfg.RehearsalServiceTime.String(), "max_wait", cfg.RehearsalMaxWait.String()}
	if cfg.RehearsalConcurrency > 0 && cfg.RehearsalServiceTime > 0 {
		perSecond := float64(cfg.RehearsalConcurrency) / cfg.RehearsalServiceTime.Seconds()
		attrs = append(attrs, "capacity_per_second", perSecond)
	}
	log.Warn("booking core is throttled for a rehearsal: holds and confirmations are limited and slowed; unset rehearsal_concurrency and rehearsal_service_time for production", attrs...)
	r := booking.NewRehearsalStore(store, cfg.RehearsalConcurrency, cfg.RehearsalServiceTime)
	if cfg.RehearsalMaxWait > 0 {
		limits := r.Limits()
		limits.MaxWait = cfg.RehearsalMaxWait
		r.SetLimits(limits)
	}
	return r
}

func storeName(cfg Config) string {
	if cfg.RedisURL == "" {
		return "memory"
	}
	return "redis"
}

// warnMissingEvents logs a warning for each room whose event the booking
// store does not have, because its admitted visitors would find no booking
// page.
func warnMissingEvents(ctx context.Context, store booking.Store, rooms []waitroom.Settings, log *slog.Logger) {
	for _, room := range rooms {
		if room.Event == "" {
			continue
		}
		_, err := store.Event(ctx, room.Event)
		switch {
		case errors.Is(err, booking.ErrUnknownEvent):
			log.Warn("room guards an event that does not exist, so its admitted visitors will find no booking page; add the event to the configuration or create it through the admin API", "room", room.ID, "event", room.Event)
		case err != nil:
			log.Warn("could not check the room's event", "room", room.ID, "event", room.Event, "err", err)
		}
	}
}
