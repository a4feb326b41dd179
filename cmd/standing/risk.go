package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"standing"
	"standing/bench"
	"standing/config"
	"standing/rules"
	"standing/sqlstore"
)

const rulesUsage = "usage: standing rules list | rules show ID | rules apply FILE  [--data-dir DIR | --database-url URL]"

// rulesCommands are the rules subcommands with their count of arguments.
var rulesCommands = map[string]struct {
	args  int
	usage string
}{
	"list":  {0, "rules list"},
	"show":  {1, "rules show ID"},
	"apply": {1, "rules apply FILE"},
}

// runRules serves `standing rules list|show|apply FILE`: the rules in force, one rule with
// every version, and rules from a YAML or JSON file saved as new versions, all or none.
// The command, its arguments and the file are checked before the database is opened. A
// running server picks up applied rules within a second.
func runRules(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return exitError{2, fmt.Errorf("%s", rulesUsage)}
	}
	sub, args := args[0], args[1:]
	want, known := rulesCommands[sub]
	if !known {
		return exitError{2, fmt.Errorf("unknown rules command %q; %s", sub, rulesUsage)}
	}
	fs := newFlagSet("rules "+sub, stderr)
	cfg := config.StoreFlags(fs, getenv)
	actor := fs.String("actor", "cli", "who applies the rules (kept with each version)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != want.args {
		return exitError{2, fmt.Errorf("usage: standing %s", want.usage)}
	}
	var list []rules.Rule
	if sub == "apply" {
		var err error
		if list, err = readRuleFile(fs.Arg(0), cfg.PolicyFile, stderr); err != nil {
			return err
		}
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	risk := sqlstore.NewRisk(s, sqlstore.RiskOptions{})
	switch sub {
	case "list":
		list, err := risk.Rules(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "no rules yet: the server stores the default pack when it first starts, and so does rules apply")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVERSION\tMODE\tENABLED\tOUTCOME\tNAME")
		for _, r := range list {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%s\t%s\n", r.ID, r.Version, r.Mode, r.Enabled, r.Outcome.Describe(), r.Name)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if skipped, err := risk.Skipped(ctx); err == nil && len(skipped) > 0 {
			fmt.Fprintln(stdout, "\nleft out of the engine (they no longer compile or validate under the policy):")
			for _, sk := range skipped {
				fmt.Fprintln(stdout, "  "+sk)
			}
		}
		return nil
	case "show":
		versions, err := risk.RuleVersions(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("%s", standing.ErrorMessage(err))
		}
		cur := versions[0]
		fmt.Fprintf(stdout, "%s — %s (version %d, %s, %s)\n", cur.ID, cur.Name, cur.Version, cur.Mode, enabledWord(cur.Enabled))
		if cur.Description != "" {
			fmt.Fprintf(stdout, "\n%s\n", cur.Description)
		}
		fmt.Fprintf(stdout, "\nexpression:\n  %s\noutcome: %s\n\nversions:\n", strings.ReplaceAll(cur.Expression, "\n", "\n  "), cur.Outcome.Describe())
		for _, v := range versions {
			fmt.Fprintf(stdout, "  v%d  %s  by %s  (%s, %s)\n", v.Version, standing.FormatTime(v.UpdatedAt), v.UpdatedBy, v.Mode, enabledWord(v.Enabled))
		}
		return nil
	}
	// apply: the default pack first on a store without rules, as the server's first start
	// would do (it seeds only an empty store), then the file, in one transaction.
	revs, changed, err := risk.ApplyRules(ctx, list, *actor)
	if err != nil {
		return fmt.Errorf("%s: %s: %s; no rule was changed", fs.Arg(0), standing.ErrorField(err), standing.ErrorMessage(err))
	}
	for i, rev := range revs {
		switch {
		case !changed[i]:
			fmt.Fprintf(stdout, "%s unchanged (version %d)\n", rev.ID, rev.Version)
		case rev.Version == 1:
			fmt.Fprintf(stdout, "%s created (version 1)\n", rev.ID)
		default:
			fmt.Fprintf(stdout, "%s saved as version %d\n", rev.ID, rev.Version)
		}
	}
	return nil
}

// readRuleFile reads the rules of a file and checks each against the policy, writing
// every error, with the rule's position and id, to stderr: a file with a mistake is
// refused whole.
func readRuleFile(path, policyFile string, stderr io.Writer) ([]rules.Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	list, err := parseRuleFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := config.LoadPolicy(policyFile)
	if err != nil {
		return nil, err
	}
	failed := false
	for i, r := range list {
		err := r.Validate(p)
		if err == nil {
			_, err = rules.Compile(r)
		}
		if err != nil {
			fmt.Fprintf(stderr, "rules[%d] %s: %s: %s\n", i, r.ID, standing.ErrorField(err), standing.ErrorMessage(err))
			failed = true
		}
	}
	if failed {
		return nil, fmt.Errorf("%s has errors; no rule was changed", path)
	}
	return list, nil
}

func enabledWord(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// fileRule is a rule as a file writes it; enabled is on unless the file says otherwise.
type fileRule struct {
	ID          string        `yaml:"id" json:"id"`
	Name        string        `yaml:"name" json:"name"`
	Description string        `yaml:"description" json:"description"`
	Expression  string        `yaml:"expression" json:"expression"`
	Outcome     rules.Outcome `yaml:"outcome" json:"outcome"`
	Mode        rules.Mode    `yaml:"mode" json:"mode"`
	Enabled     *bool         `yaml:"enabled" json:"enabled"`
}

// parseRuleFile reads rules from YAML or JSON: a list of rules, {rules: [...]}, or one rule.
func parseRuleFile(b []byte) ([]rules.Rule, error) {
	var list []fileRule
	if err := strictYAML(b, &list); err != nil {
		var wrapped struct {
			Rules []fileRule `yaml:"rules"`
		}
		if err2 := strictYAML(b, &wrapped); err2 == nil && len(wrapped.Rules) > 0 {
			list = wrapped.Rules
		} else {
			var one fileRule
			if err3 := strictYAML(b, &one); err3 != nil || one.ID == "" {
				return nil, fmt.Errorf("want a list of rules, {rules: [...]} or one rule: %v", err)
			}
			list = []fileRule{one}
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("the file holds no rules")
	}
	seen := map[string]bool{}
	out := make([]rules.Rule, 0, len(list))
	for i, f := range list {
		if seen[f.ID] {
			return nil, fmt.Errorf("rules[%d]: rule %q appears twice", i, f.ID)
		}
		seen[f.ID] = true
		r := rules.Rule{ID: f.ID, Name: f.Name, Description: f.Description, Expression: f.Expression, Outcome: f.Outcome, Mode: f.Mode, Enabled: true}
		if r.Mode == "" {
			r.Mode = rules.ModeActive
		}
		if f.Enabled != nil {
			r.Enabled = *f.Enabled
		}
		out = append(out, r)
	}
	return out, nil
}

// strictYAML decodes YAML (JSON is YAML too), refusing unknown fields.
func strictYAML(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// runWebhooks serves `standing webhooks list`: the endpoints with their deliveries by state.
func runWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return exitError{2, fmt.Errorf("usage: standing webhooks list [--data-dir DIR | --database-url URL]")}
	}
	fs := newFlagSet("webhooks list", stderr)
	cfg := config.StoreFlags(fs, getenv)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	eps, err := s.WebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	if len(eps) == 0 {
		fmt.Fprintln(stdout, "no webhook endpoints; add one with POST /v1/webhooks")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tSTATE\tEVENTS\tPENDING\tDELIVERED\tFAILED\tLAST ERROR")
	for _, e := range eps {
		state := "enabled"
		if !e.Enabled {
			state = "disabled: " + e.DisabledReason
		}
		types := "all"
		if len(e.EventTypes) > 0 {
			types = strings.Join(e.EventTypes, ",")
		}
		counts := map[string]int{}
		lastErr := "-"
		ds, err := s.WebhookDeliveries(ctx, e.ID, "", 1000)
		if err != nil {
			return err
		}
		for _, d := range ds {
			counts[d.State]++
			if d.LastError != "" && lastErr == "-" && d.State != standing.DeliveryDelivered {
				lastErr = d.LastError
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", e.ID, e.URL, state, types, counts[standing.DeliveryPending],
			counts[standing.DeliveryDelivered], counts[standing.DeliveryFailed], lastErr)
	}
	return tw.Flush()
}

// runBenchEvents serves `standing bench events`: the default pack plus extra rules on
// SQLite, single events from concurrent clients and batches; with --scale, the event and
// check latency of an empty store against one holding a million accounts and ten million
// events.
func runBenchEvents(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	o := bench.EventsOptions{}
	fs.IntVar(&o.Accounts, "accounts", 10000, "accounts the events are spread over")
	fs.IntVar(&o.Concurrency, "concurrency", 16, "clients posting single events")
	fs.IntVar(&o.BatchClients, "batch-clients", 4, "clients posting batches")
	fs.IntVar(&o.BatchSize, "batch", 500, "events per batch")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each phase runs")
	fs.IntVar(&o.ExtraRules, "extra-rules", 50, "rules added to the default pack")
	fs.BoolVar(&o.RandomIDs, "random-ids", false, "give the events random ids, as UUIDs, not ids in increasing order")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "postgres://… to bench on PostgreSQL; empty: SQLite in a temporary folder")
	phases := fs.String("phases", "single,batch", "the measured phases to run, in order: single, batch or both")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phases to this file")
	traceFile := fs.String("trace", "", "write an execution trace of the measured phases to this file (go tool trace)")
	memProfile := fs.String("memprofile", "", "write the allocations of the measured phases (pprof alloc_space) to this file")
	scale := fs.Bool("scale", false, "compare latency on an empty store with a large one (see --scale-accounts, --scale-events)")
	so := bench.ScaleOptions{}
	fs.IntVar(&so.Accounts, "scale-accounts", 1_000_000, "accounts of the large store (--scale)")
	fs.IntVar(&so.Events, "scale-events", 10_000_000, "stored events of the large store (--scale)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, p := range strings.Split(*phases, ",") {
		if p = strings.TrimSpace(p); p != "single" && p != "batch" {
			return fmt.Errorf("--phases: unknown phase %q (want single, batch or both, comma-separated)", p)
		}
		o.Phases = append(o.Phases, p)
	}
	if *scale {
		so.Concurrency, so.Duration, so.ExtraRules = o.Concurrency, o.Duration, o.ExtraRules
		return bench.Scale(ctx, so, stdout)
	}
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	var profiles []func(start bool)
	// recorder writes what start begins recording into path, until stop.
	recorder := func(path, what string, start func(io.Writer) error, stop func()) error {
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		closers = append(closers, f)
		profiles = append(profiles, func(on bool) {
			if !on {
				stop()
				return
			}
			if err := start(f); err != nil {
				fmt.Fprintf(os.Stderr, "standing: %s: %v\n", what, err)
			}
		})
		return nil
	}
	if err := recorder(*cpuProfile, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile); err != nil {
		return err
	}
	if err := recorder(*traceFile, "trace", trace.Start, trace.Stop); err != nil {
		return err
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		// The profile counts allocations since the start; the setup's are subtracted by
		// taking a base: pprof -base. Simpler here: sample every allocation from the
		// measured phases on, and write the profile at their end.
		profiles = append(profiles, func(start bool) {
			if start {
				runtime.MemProfileRate = 64 << 10
				return
			}
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(os.Stderr, "standing: memory profile: %v\n", err)
			}
		})
	}
	if len(profiles) > 0 {
		o.Profile = func(start bool) {
			for _, p := range profiles {
				p(start)
			}
		}
	}
	return bench.Events(ctx, o, stdout)
}
