package main

import (
	"context"
	"fmt"
	"io"

	"standing/bench"
)

func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: standing bench check|events|sellers|queue|erasure [flags]; standing bench NAME -h lists a benchmark's flags"
	if len(args) == 0 {
		return exitError{2, fmt.Errorf("%s", usage)}
	}
	sub, args := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fs := newFlagSet("bench "+sub, stderr)
	switch sub {
	case "check":
		opts := bench.CheckOptions{}
		fs.IntVar(&opts.Accounts, "accounts", 100000, "accounts to import (a third restricted)")
		fs.IntVar(&opts.Concurrency, "concurrency", 32, "concurrent clients")
		fs.DurationVar(&opts.Duration, "duration", 0, "how long to drive checks (default 20s)")
		fs.StringVar(&opts.DatabaseURL, "database-url", "", "postgres://… to bench on PostgreSQL; empty: SQLite in a temporary folder")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return bench.Check(ctx, opts, stdout)
	case "events":
		return runBenchEvents(ctx, fs, args, stdout)
	case "sellers":
		opts := bench.SellersOptions{}
		fs.IntVar(&opts.Sellers, "sellers", 100000, "seller accounts")
		fs.IntVar(&opts.Orders, "orders", 10000000, "orders over the last 59 days")
		fs.IntVar(&opts.Changes, "changes", 100000, "orders changed before the incremental sweep")
		fs.StringVar(&opts.Path, "path", "", "keep the SQLite database in this file; a second run reuses its orders")
		fs.StringVar(&opts.DatabaseURL, "database-url", "", "postgres://… to bench on PostgreSQL; empty: SQLite in a temporary folder")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		_, err := bench.Sellers(ctx, opts, stdout)
		return err
	case "erasure":
		opts := bench.ErasureOptions{}
		fs.IntVar(&opts.Accounts, "accounts", 100000, "accounts to fill and erase")
		fs.StringVar(&opts.DatabaseURL, "database-url", "", "postgres://… to bench on PostgreSQL; empty: SQLite in a temporary folder")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return bench.Erasure(ctx, opts, stdout)
	case "queue":
		opts := bench.QueueOptions{}
		fs.IntVar(&opts.Appeals, "appeals", 1000000, "open appeals to fill the queue with")
		fs.IntVar(&opts.Rounds, "rounds", 200, "first-page reads per filter")
		fs.StringVar(&opts.DatabaseURL, "database-url", "", "postgres://… to bench on PostgreSQL; empty: SQLite in a temporary folder")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return bench.Queue(ctx, opts, stdout)
	}
	return exitError{2, fmt.Errorf("unknown bench %q: want check, events, sellers, queue or erasure", sub)}
}
