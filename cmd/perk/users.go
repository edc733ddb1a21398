package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/perk-platform/perk/internal/auth"
)

const usersUsage = `usage:
  perk users create --email E --role admin|manager|reporting [--name N] [--password-stdin]
  perk users list
  perk users disable EMAIL
  perk users passwd EMAIL [--password-stdin]
Without --password-stdin the password is asked for on the terminal, twice, without echo.`

// cmdUsers manages operator accounts: the people who sign in to /manage.
func cmdUsers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usersUsage)
		return errUsage
	}
	var c Config
	var email, role, name, output string
	var fromStdin bool
	fs := flag.NewFlagSet("perk users "+args[0], flag.ContinueOnError)
	commonFlags(fs, &c)
	switch args[0] {
	case "create":
		fs.StringVar(&email, "email", "", "the operator's email, their sign-in name")
		fs.StringVar(&role, "role", "", "admin, manager or reporting")
		fs.StringVar(&name, "name", "", "the operator's name")
		fallthrough
	case "passwd":
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input (one line)")
	case "list":
		outputFlag(fs, &output, "table", "json")
	case "disable":
	default:
		fmt.Fprintf(os.Stderr, "perk: unknown users command %q\n%s\n", args[0], usersUsage)
		return errUsage
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		if len(pos) != 0 || email == "" {
			return fmt.Errorf("usage: perk users create --email E --role ROLE [--name N] [--password-stdin]")
		}
	case "disable", "passwd":
		if len(pos) != 1 {
			return fmt.Errorf("usage: perk users %s EMAIL", args[0])
		}
		email = pos[0]
	case "list":
		if len(pos) != 0 {
			return fmt.Errorf("usage: perk users list [-o table|json]")
		}
		if err := checkOutput("users list", output, "table", "json"); err != nil {
			return err
		}
	}

	// Check what can be checked before asking for a password.
	var r auth.Role
	if args[0] == "create" {
		if r, err = auth.ParseOperatorRole(role); err != nil {
			return err
		}
	}
	var password string
	if args[0] == "create" || args[0] == "passwd" {
		if password, err = readPassword(os.Stdin, fromStdin, email); err != nil {
			return err
		}
	}

	db, _, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	users := auth.NewService(db, nil)
	switch args[0] {
	case "create":
		op, err := users.CreateOperator(ctx, email, name, r, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created %s operator %s (%s)\n", op.Role, op.Email, op.ID)
		return nil
	case "passwd":
		if err := users.SetPassword(ctx, email, password); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "password of %s changed; their sessions are ended\n", strings.ToLower(strings.TrimSpace(email)))
		return nil
	case "disable":
		if err := users.DisableOperator(ctx, email); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s disabled; their sessions are ended\n", strings.ToLower(strings.TrimSpace(email)))
		return nil
	}
	list, err := users.ListOperators(ctx)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(os.Stdout, nonNil(list))
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tNAME\tCREATED\tLAST LOGIN\tDISABLED")
	for _, op := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", op.Email, op.Role, op.Name, op.CreatedAt.Format(time.RFC3339),
			stamp(op.LastLoginAt), stamp(op.DisabledAt))
	}
	return tw.Flush()
}

// readPassword reads a password from in: its first line with --password-stdin,
// else by asking twice on the terminal without echo. The policy is checked
// here too, so a person can be told before anything is written.
func readPassword(in *os.File, fromStdin bool, email string) (string, error) {
	var password string
	switch {
	case fromStdin:
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	case term.IsTerminal(int(in.Fd())):
		fmt.Fprint(os.Stderr, "Password (at least 12 characters): ")
		first, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if err := auth.CheckPassword(email, string(first)); err != nil {
			return "", err
		}
		fmt.Fprint(os.Stderr, "Again: ")
		again, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(again) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		password = string(first)
	default:
		return "", errors.New("standard input is not a terminal: pass the password on it with --password-stdin")
	}
	return password, auth.CheckPassword(email, password)
}
