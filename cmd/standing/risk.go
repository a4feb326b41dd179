package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runRules serves `standing rules list|show|apply FILE`.
func runRules(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return exitError{2, fmt.Errorf("standing rules: not built yet")}
}

// runWebhooks serves `standing webhooks list`.
func runWebhooks(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return exitError{2, fmt.Errorf("standing webhooks: not built yet")}
}

// runBenchEvents serves `standing bench events`.
func runBenchEvents(ctx context.Context, fs *flag.FlagSet, args []string, stdout io.Writer) error {
	return exitError{2, fmt.Errorf("standing bench events: not built yet")}
}
