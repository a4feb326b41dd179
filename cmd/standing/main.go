// Command standing runs the Standing account-standing service and its operator tools.
//
//	standing serve [--dev] [--addr HOST:PORT] [--data-dir DIR] [--database-url URL] [--policy FILE]
//	standing migrate | version
//	standing apikey create --name NAME --scopes SCOPES [--reviewer STAFF_ID] | apikey list | apikey revoke ID
//	standing policy print | policy check FILE
//	standing audit verify
//	standing user create | mail list | rules list|show|apply | webhooks list
//	standing bench check|events|sellers|queue|erasure [flags]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise: the heap may
// grow to three times what is live between collections, not twice. Deciding on events
// allocates quickly; at Go's default of 100 the collector took about a seventh of the
// CPU in the event benchmarks, and batches of events went 7 % faster at 200 (README,
// Performance). GOMEMLIMIT caps the heap where memory is short.
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "standing:", err)
		os.Exit(exitCode(err))
	}
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	if e, ok := err.(exitError); ok {
		return e.code
	}
	return 1
}

const usage = `usage: standing <command> [flags]

commands:
  serve             run the service (--dev for a developer machine)
  migrate           apply database migrations and exit
  version           print the version
  apikey            create, list or revoke operator API keys
  policy            print the effective policy, or check a policy file
  audit verify      check the audit hash chain
  user create       add a reviewer or admin of the console
  mail list         list stored mail (the outbox, or the mailbox without SMTP)
  rules             list, show or apply risk rules
  webhooks list     list webhook endpoints and recent deliveries
  bench check       load-test POST /v1/check over loopback HTTP
  bench events      load-test POST /v1/events over loopback HTTP
  bench sellers     time the seller standards recompute
  bench queue       time the console queue's first page with many open appeals
  bench erasure     time erasing accounts

Run "standing <command> -h" for the flags of a command.`

// run is the whole program: main only calls it, tests call it too. A command's -h has
// printed the flags by the time it returns, and ends with success.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := runCommand(ctx, args, getenv, stdin, stdout, stderr)
	if err != nil && exitCode(err) == 0 {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitError{2, fmt.Errorf("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "apikey":
		return runAPIKey(ctx, rest, getenv, stdout, stderr)
	case "policy":
		return runPolicy(ctx, rest, getenv, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "mail":
		return runMail(ctx, rest, getenv, stdout, stderr)
	case "rules":
		return runRules(ctx, rest, getenv, stdout, stderr)
	case "webhooks":
		return runWebhooks(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return exitError{2, fmt.Errorf("unknown command %q", cmd)}
}
