// Command foyer runs Foyer, a self-hosted virtual waiting room and booking
// core for timed-entry ticket launches.
//
// Usage:
//
//	foyer serve [--config FILE] [--listen ADDR] [--redis URL] [--booking-redis URL]
//	foyer keys --dir DIR
//	foyer hash-password < FILE
//	foyer loadtest --target URL [--target URL ...] [--scenario FILE]
//	foyer version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"foyer/waitroom"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The flag package has printed the help that was asked for.
	case err != nil:
		fmt.Fprintln(os.Stderr, "foyer:", err)
		os.Exit(1)
	}
}

const usage = `Usage:
  foyer serve [--config FILE] [--listen ADDR] [--redis URL] [--booking-redis URL]
  foyer keys --dir DIR
  foyer hash-password < FILE
  foyer loadtest --target URL [--target URL ...] [--scenario FILE]
  foyer version

Run 'foyer serve --help' or 'foyer loadtest --help' for their options.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command: use serve, keys, hash-password, loadtest or version")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "keys":
		return keys(args[1:], stdout, stderr)
	case "loadtest":
		return loadtestCommand(ctx, args[1:], stdout, stderr)
	case "hash-password":
		return hashPassword(args[1:], os.Stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "foyer", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q: use serve, keys, hash-password, loadtest or version", args[0])
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

func keys(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory to write the new signing key and cookie key to (created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("keys: --dir is required: name the directory to write the keys to, for example --dir /etc/foyer/keys")
	}
	id, err := waitroom.WriteNewKeys(*dir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote signing key and cookie key %s to %s\nstart foyer with --keys %s (or FOYER_KEYS_DIR) on every edge\n", id, *dir, *dir)
	return nil
}
