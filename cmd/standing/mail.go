package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"standing"
	"standing/config"
)

// runMail serves `standing mail list [--to ADDRESS] [--limit N]`: the stored mail, newest
// first — what was sent, what is queued, and (without SMTP) what was kept.
func runMail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return exitError{2, fmt.Errorf("usage: standing mail list [--to ADDRESS] [--limit N] [--full]")}
	}
	fs := newFlagSet("mail list", stderr)
	cfg := config.StoreFlags(fs, getenv)
	to := fs.String("to", "", "only mail to this address")
	limit := fs.Int("limit", 20, "how many, newest first")
	full := fs.Bool("full", false, "print each mail's text")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	mails, err := s.Mails(ctx, *to, *limit)
	if err != nil {
		return err
	}
	if len(mails) == 0 {
		fmt.Fprintln(stdout, "no mail")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tSTATE\tTO\tKIND\tSUBJECT")
	for _, m := range mails {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", standing.FormatTime(m.CreatedAt), m.State, m.To, m.Kind, m.Subject)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *full {
		for _, m := range mails {
			fmt.Fprintf(stdout, "\n--- %s to %s: %s\n%s\n", m.ID, m.To, m.Subject, m.Text)
		}
	}
	return nil
}
