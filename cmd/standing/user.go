package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"standing"
	"standing/appeals"
	"standing/config"
	"standing/evidence"
)

// runUser serves `standing user create --role reviewer|admin --email E --name N`: a
// trust & safety person for the console. The password is read from --password-file, or
// from the first line of standard input (so it does not show in the process list).
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return exitError{2, fmt.Errorf("usage: standing user create --role reviewer|admin --email EMAIL --name NAME [--password-file FILE]")}
	}
	fs := newFlagSet("user create", stderr)
	cfg := config.StoreFlags(fs, getenv)
	role := fs.String("role", "reviewer", "reviewer or admin")
	email := fs.String("email", "", "the person's email (their console sign-in)")
	name := fs.String("name", "", "the name shown to colleagues and in decisions")
	pwFile := fs.String("password-file", "", "file holding the password; empty: read the first line of standard input")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var password string
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return err
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else {
		fmt.Fprintln(stderr, "password (one line):")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	svc := appeals.New(s, nil, &evidence.Inspector{}, s.Clock(), s.Policy, "", nil)
	u, err := svc.CreateStaff(ctx, *email, *name, standing.StaffRole(*role), password)
	if err != nil {
		if f := standing.ErrorField(err); f != "" {
			return fmt.Errorf("--%s: %s", f, standing.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (%s); sign in at /console/login\n%s\n", u.Role, u.Name, u.Email, u.ID)
	return nil
}
