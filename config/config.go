// Package config reads Standing's configuration — flags first, then STANDING_* variables
// through an injected getenv, then defaults — validates it at start-up and prints it with
// secrets masked. It also loads the policy file over the built-in policy.
package config

import (
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// MinSecretLen is the shortest server secret accepted: the keyed hashes of the deny list
// and the evidence links are only as strong as it.
const MinSecretLen = 32

// DefaultMailFrom is the sender of outgoing mail when none is configured.
const DefaultMailFrom = "Standing <no-reply@standing.localhost>"

// Config is the process configuration (the policy is separate: it can be reloaded).
type Config struct {
	Addr        string // listen address
	DataDir     string // SQLite file, evidence, dev state
	DatabaseURL string // postgres://… or empty for SQLite in DataDir
	PolicyFile  string
	Dev         bool
	BaseURL     string // public URL for links in mail; default http://Addr
	SMTPURL     string // smtp://user:pass@host:port; empty keeps mail in the store
	SMTPTLS     string // starttls (default), tls, none
	MailFrom    string
	LogLevel    string
	Secret      string // server secret for HMACs (deny list); generated in DataDir when empty; at least MinSecretLen
	BlobURL     string // evidence store: file:///dir (default: DataDir/blobs) or s3://bucket/prefix?endpoint=…

	devEnv string // STANDING_DEV as given, for Validate to refuse a value it cannot read
}

// Flags registers the serve flags on fs, with defaults read from getenv.
func Flags(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Addr, "addr", env("STANDING_ADDR", "127.0.0.1:8080"), "listen address (STANDING_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("STANDING_DATA_DIR", "./standing-data"), "data folder: SQLite file, evidence, dev state (STANDING_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("STANDING_DATABASE_URL", ""), "postgres://… to run on PostgreSQL; empty: SQLite in the data folder (STANDING_DATABASE_URL)")
	fs.StringVar(&c.PolicyFile, "policy", env("STANDING_POLICY", ""), "policy file, YAML or TOML (.toml); empty: built-in defaults (STANDING_POLICY)")
	c.devEnv = getenv("STANDING_DEV")
	dev, _ := strconv.ParseBool(c.devEnv)
	fs.BoolVar(&c.Dev, "dev", dev, "developer mode: /dev/mail and POST /dev/clock (STANDING_DEV=1)")
	fs.StringVar(&c.BaseURL, "base-url", env("STANDING_BASE_URL", ""), "public URL used in links sent by mail (STANDING_BASE_URL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", env("STANDING_SMTP_URL", ""), "smtp://user:pass@host:port to send mail; empty keeps it in the store (STANDING_SMTP_URL)")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", env("STANDING_SMTP_TLS", "starttls"), "SMTP TLS policy: starttls, tls or none (STANDING_SMTP_TLS)")
	fs.StringVar(&c.MailFrom, "mail-from", env("STANDING_MAIL_FROM", DefaultMailFrom), "sender of outgoing mail (STANDING_MAIL_FROM)")
	fs.StringVar(&c.LogLevel, "log-level", env("STANDING_LOG_LEVEL", "info"), "debug, info, warn or error (STANDING_LOG_LEVEL)")
	fs.StringVar(&c.Secret, "secret", env("STANDING_SECRET", ""), "server secret for keyed hashes; empty: generated in the data folder (STANDING_SECRET)")
	fs.StringVar(&c.BlobURL, "blob-url", env("STANDING_BLOB_URL", ""), "evidence store: file:///dir or s3://bucket/prefix?endpoint=http://host:port; empty: the data folder (STANDING_BLOB_URL)")
	return c
}

// StoreFlags registers only the flags a command that opens the store needs.
func StoreFlags(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.DataDir, "data-dir", env("STANDING_DATA_DIR", "./standing-data"), "data folder (STANDING_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("STANDING_DATABASE_URL", ""), "postgres://… (STANDING_DATABASE_URL)")
	fs.StringVar(&c.PolicyFile, "policy", env("STANDING_POLICY", ""), "policy file (STANDING_POLICY)")
	return c
}

// Validate checks the configuration and fills derived defaults. An error names the
// setting both ways it can be given: "--addr (STANDING_ADDR) …".
func (c *Config) Validate() error {
	err := c.validate()
	if err == nil {
		return nil
	}
	msg := err.Error()
	if flag, rest, ok := strings.Cut(msg, " "); ok && strings.HasPrefix(flag, "--") {
		env := "STANDING_" + strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(flag, "--"), "-", "_"))
		return fmt.Errorf("%s (%s) %s", flag, env, rest)
	}
	return err
}

func (c *Config) validate() error {
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("--addr %q: want host:port, like 127.0.0.1:8080", c.Addr)
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data-dir must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		return fmt.Errorf("--database-url must start with postgres:// (or sqlite:), not %q", Mask(c.DatabaseURL))
	}
	if c.BaseURL == "" && c.Addr != "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); c.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("--base-url %q: want an http:// or https:// URL", c.BaseURL)
	}
	if c.devEnv != "" {
		if _, err := strconv.ParseBool(c.devEnv); err != nil {
			return fmt.Errorf("STANDING_DEV must be 1 or 0 (or true or false), not %q", c.devEnv)
		}
	}
	if c.Secret != "" && len(c.Secret) < MinSecretLen {
		return fmt.Errorf("--secret must be at least %d characters (a random one: openssl rand -hex 32), not %d", MinSecretLen, len(c.Secret))
	}
	if c.MailFrom == "" {
		c.MailFrom = DefaultMailFrom
	}
	// Checked even while mail is kept rather than sent, so that turning SMTP on later
	// does not find it wrong.
	if _, err := mail.ParseAddress(c.MailFrom); err != nil || strings.ContainsAny(c.MailFrom, "\r\n") {
		return fmt.Errorf("--mail-from %q: want one email address, like %s", c.MailFrom, DefaultMailFrom)
	}
	if c.SMTPTLS == "" {
		c.SMTPTLS = "starttls"
	}
	switch c.SMTPTLS {
	case "starttls", "tls", "none":
	default:
		return fmt.Errorf("--smtp-tls must be starttls, tls or none, not %q", c.SMTPTLS)
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return fmt.Errorf("--smtp-url: want smtp://user:password@host:port, not %q", Mask(c.SMTPURL))
		}
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return nil
}

// StoreDSN returns what sqlstore.Open takes: the database URL, or the SQLite file.
func (c *Config) StoreDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.DataDir, "standing.db")
}

// Mask hides the password of a URL.
func Mask(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Masked returns the configuration as printable pairs, secrets masked.
func (c *Config) Masked() []any {
	secret := ""
	if c.Secret != "" {
		secret = "(set)"
	}
	db := "sqlite:" + c.StoreDSN()
	if c.DatabaseURL != "" {
		db = Mask(c.DatabaseURL)
	}
	blobs := c.BlobURL
	if blobs == "" {
		blobs = filepath.Join(c.DataDir, "blobs")
	}
	return []any{"addr", c.Addr, "data_dir", c.DataDir, "database", db, "blobs", Mask(blobs), "policy", c.PolicyFile,
		"dev", c.Dev, "base_url", c.BaseURL, "smtp", Mask(c.SMTPURL), "smtp_tls", c.SMTPTLS, "mail_from", c.MailFrom,
		"secret", secret, "log_level", c.LogLevel}
}
