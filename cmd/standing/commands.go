package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"standing"
	"standing/app"
	"standing/config"
	"standing/httpapi"
	"standing/sqlstore"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("standing %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("standing "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses a command's flags wherever they stand: before its arguments or after
// them, as the usage lines write them ("rules show ID [--data-dir DIR]"). The flag
// package alone stops at the first argument; after "--" everything is an argument.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitError{0, err}
			}
			return exitError{2, err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	// Parse again to leave only the arguments in fs.Args(); "--" keeps them arguments.
	return fs.Parse(append([]string{"--"}, positional...))
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens and migrates the store a command's flags name.
func openStore(ctx context.Context, c *config.Config) (*sqlstore.Store, error) {
	p, err := config.LoadPolicy(c.PolicyFile)
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.Open(ctx, c.StoreDSN(), sqlstore.Options{Policy: func() *standing.Policy { return p }})
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return s, nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfg := config.Flags(fs, getenv)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if cfg.Dev {
		log.Warn("DEVELOPER MODE: /dev/mail and POST /dev/clock are on; never run --dev in production")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log.Info("starting standing", append([]any{"version", version}, cfg.Masked()...)...)
	if host := baseHost(cfg.BaseURL); host != "" {
		log.Warn("links in mail will point to an address nobody can open; set --base-url to the public URL",
			"base_url", cfg.BaseURL, "host", host)
	}
	// Listen first: a busy address is reported at once, before the store is migrated.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	a, err := app.New(ctx, cfg, log, app.Options{Getenv: getenv})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("listening", "url", "http://"+ln.Addr().String(), "store", a.Store.Dialect().String())
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := a.ReloadPolicy(); err != nil {
				log.Error("policy reload failed; the old policy stays", "err", err)
			} else {
				log.Info("policy reloaded", "file", cfg.PolicyFile)
			}
		}
	}()
	return a.Serve(ctx, ln)
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	cfg := config.StoreFlags(fs, getenv)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := config.LoadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	s, err := sqlstore.Open(ctx, cfg.StoreDSN(), sqlstore.Options{Policy: func() *standing.Policy { return p }})
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "the database is up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	return nil
}

const apikeyUsage = "usage: standing apikey create --name NAME --scopes SCOPES [--reviewer STAFF_ID] | apikey list | apikey revoke KEY_ID"

// runAPIKey serves `standing apikey create|list|revoke`. A key that decides appeals
// (scope appeals:decide) is bound to the one reviewer whose decisions it records.
func runAPIKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{2, fmt.Errorf("%s", apikeyUsage)}
	}
	sub, args := args[0], args[1:]
	if sub != "create" && sub != "list" && sub != "revoke" {
		return exitError{2, fmt.Errorf("unknown apikey command %q: want create, list or revoke", sub)}
	}
	fs := newFlagSet("apikey "+sub, stderr)
	cfg := config.StoreFlags(fs, getenv)
	var name, scopes, reviewer string
	if sub == "create" {
		fs.StringVar(&name, "name", "", "name of the key (who uses it)")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes: "+strings.Join(standing.KnownScopes, ", "))
		fs.StringVar(&reviewer, "reviewer", "", "the console user (staff id) whose appeal decisions the key records; needed with "+standing.ScopeAppealsDecide)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Everything the arguments alone can tell is checked before the database is opened
	// (and created, or migrated).
	if sub == "revoke" && fs.NArg() != 1 {
		return exitError{2, fmt.Errorf("usage: standing apikey revoke KEY_ID")}
	} else if sub != "revoke" && fs.NArg() != 0 {
		return exitError{2, fmt.Errorf("standing apikey %s takes no arguments, not %q; %s", sub, fs.Args(), apikeyUsage)}
	}
	var list []string
	if sub == "create" {
		for _, sc := range strings.Split(scopes, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				list = append(list, sc)
			}
		}
		if _, _, err := httpapi.NewKey(name, list, time.Time{}); err != nil {
			return exitError{2, fmt.Errorf("--%s: %s", standing.ErrorField(err), standing.ErrorMessage(err))}
		}
		if standing.HasString(list, standing.ScopeAppealsDecide) && reviewer == "" {
			return exitError{2, fmt.Errorf("a key with %s decides as one person: name them with --reviewer STAFF_ID (standing user create prints the id)", standing.ScopeAppealsDecide)}
		}
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "create":
		k, secret, err := httpapi.NewKey(name, list, s.Clock().Now())
		if err != nil {
			return fmt.Errorf("%s", standing.ErrorMessage(err))
		}
		if reviewer != "" {
			u, err := s.Staff(ctx, reviewer)
			if standing.ErrorCode(err) == standing.ENOTFOUND {
				return fmt.Errorf("--reviewer: there is no console user %q", reviewer)
			} else if err != nil {
				return err
			}
			if u.Disabled {
				return fmt.Errorf("--reviewer: console user %s (%s) is disabled", u.ID, u.Name)
			}
			k.ReviewerID = u.ID
		}
		if err := s.CreateAPIKey(ctx, k, httpapi.HashKey(secret)); err != nil {
			return err
		}
		bound := ""
		if k.ReviewerID != "" {
			bound = " for reviewer " + k.ReviewerID
		}
		fmt.Fprintf(stdout, "created API key %s (%s) with scopes %s%s; the key is shown once:\n%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), bound, secret)
		return nil
	case "list":
		keys, err := s.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tREVIEWER\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked, reviewer := "-", "-"
			if k.RevokedAt != nil {
				revoked = standing.FormatTime(*k.RevokedAt)
			}
			if k.ReviewerID != "" {
				reviewer = k.ReviewerID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), reviewer, standing.FormatTime(k.CreatedAt), revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := s.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			return fmt.Errorf("%s", standing.ErrorMessage(err))
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
		return nil
	}
	return exitError{2, fmt.Errorf("unknown apikey command %q: want create, list or revoke", sub)}
}

func runPolicy(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{2, fmt.Errorf("usage: standing policy print [--policy FILE] | policy check FILE")}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("policy "+sub, stderr)
	file := fs.String("policy", getenv("STANDING_POLICY"), "policy file (STANDING_POLICY)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch sub {
	case "print":
		p, err := config.LoadPolicy(*file)
		if err != nil {
			return err
		}
		b, err := config.PolicyYAML(p)
		if err != nil {
			return err
		}
		if *file == "" {
			fmt.Fprintln(stdout, "# the built-in default policy")
		} else {
			fmt.Fprintf(stdout, "# the effective policy: %s over the built-in defaults\n", *file)
		}
		_, err = stdout.Write(b)
		return err
	case "check":
		path := *file
		if fs.NArg() == 1 {
			path = fs.Arg(0)
		}
		if path == "" {
			return exitError{2, fmt.Errorf("usage: standing policy check FILE")}
		}
		if _, err := config.LoadPolicy(path); err != nil {
			return err
		}
		fmt.Fprintln(stdout, path, "is a valid policy")
		return nil
	}
	return exitError{2, fmt.Errorf("unknown policy command %q: want print or check", sub)}
}

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return exitError{2, fmt.Errorf("usage: standing audit verify [--data-dir DIR | --database-url URL]")}
	}
	fs := newFlagSet("audit verify", stderr)
	cfg := config.StoreFlags(fs, getenv)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	n, problem, err := s.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if problem != nil {
		fmt.Fprintf(stdout, "audit chain BROKEN at entry %d (id %s): %s\n%d entries before it verified\n", problem.Seq, problem.ID, problem.Problem, n)
		return exitError{1, fmt.Errorf("the audit chain does not verify from entry %d", problem.Seq)}
	}
	fmt.Fprintf(stdout, "audit chain ok: %d entries verified\n", n)
	return nil
}

// baseHost returns the host of a base URL that no browser can reach — one listening on
// every address (0.0.0.0, ::, or no host, as --addr :8080 makes it) — and "" otherwise.
func baseHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		return cmp.Or(host, "(none)")
	}
	return ""
}
