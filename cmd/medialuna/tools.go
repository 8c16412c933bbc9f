package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func runRebuild(ctx context.Context, args []string, stderr io.Writer) error {
	var c commonConfig
	fs := newFlagSet("projections rebuild [NAME...]",
		"Rebuilds read models from the event log into fresh tables while the API keeps serving the old ones,\nthen swaps them in atomically. With no NAME, rebuilds every read model.\n\nRead models: "+
			strings.Join(projectorNames(projectors(readModels())), ", "), stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := c.logger(stderr)
	a, err := openApp(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	chosen, err := pickProjectors(projectors(readModels()), fs.Args())
	if err != nil {
		return err
	}
	rb := projections.NewRebuilder(a.db, a.store, log)
	for _, p := range chosen {
		started := time.Now()
		err := rb.Rebuild(ctx, p, func(name string, applied int64, seq, head uint64) {
			pct := 100.0
			if head > 0 {
				pct = min(100*float64(seq)/float64(head), 100)
			}
			rate := float64(applied) / max(time.Since(started).Seconds(), 1e-9)
			fmt.Fprintf(stderr, "%s: %d events applied, %.1f%% of the log, %.0f events/s\n", name, applied, pct, rate)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: rebuilt and swapped in %s\n", p.Name(), time.Since(started).Round(time.Millisecond))
	}
	return nil
}

func pickProjectors(all []projections.Projector, names []string) ([]projections.Projector, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []projections.Projector
	for _, n := range names {
		found := false
		for _, p := range all {
			if p.Name() == n {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown read model %q; known: %v", n, projectorNames(all))
		}
	}
	return out, nil
}

func runProjectionStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	fs := newFlagSet("projections status", "Shows each projector's position, lag and parked events.", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	names := append(projectorNames(projectors(readModels())), "invite_mailer", "incident_detector", "notifier")
	st, err := projections.NewQueries(a.db).ProjectorStatuses(ctx, names)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPOSITION\tHEAD\tLAG EVENTS\tLAG SECONDS\tPARKED")
	for _, s := range st {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%d\n", s.Name, s.Version, s.Position, s.HeadPosition, s.LagEvents, s.LagSeconds, s.Parked)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range st {
		for _, p := range s.RecentlyParked {
			fmt.Fprintf(stdout, "parked by %s at %s: %s %s in %s: %s\n", s.Name, p.ParkedAt.UTC().Format(time.RFC3339), p.EventType, p.EventID, p.StreamID, p.Error)
		}
	}
	return nil
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	var format, stream, typ, since, until string
	var account int64
	fs := newFlagSet("events export", "Writes the event log (secrets redacted) to stdout, in log order.", stderr)
	c.register(fs)
	fs.StringVar(&format, "format", "ndjson", "ndjson or csv")
	fs.Int64Var(&account, "account", 0, "only this account's events (0: all)")
	fs.StringVar(&stream, "stream", "", "only this stream, e.g. account-1")
	fs.StringVar(&typ, "type", "", "only this event type, e.g. MemberInvited")
	fs.StringVar(&since, "since", "", "only events recorded at or after this RFC 3339 time")
	fs.StringVar(&until, "until", "", "only events recorded before this RFC 3339 time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if format != "ndjson" && format != "csv" {
		return fmt.Errorf("--format must be ndjson or csv")
	}
	f := projections.AuditFilter{AccountID: account, Stream: stream, Type: typ}
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{since, &f.Since}, {until, &f.Until}} {
		if t.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.s)
		if err != nil {
			return fmt.Errorf("times must be RFC 3339, e.g. 2026-01-02T15:04:05Z: %w", err)
		}
		*t.dst = v.UTC()
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	n := 0
	started := time.Now()
	progress := func() {
		n++
		if n%100_000 == 0 {
			fmt.Fprintf(stderr, "exported %d events (%.0f/s)\n", n, float64(n)/time.Since(started).Seconds())
		}
	}
	if format == "csv" {
		w := csv.NewWriter(stdout)
		w.Write(projections.AuditCSVHeader())
		err = projections.ExportAudit(ctx, a.raw, f, func(e domain.RecordedEvent) error {
			progress()
			return w.Write(projections.AuditCSVRecord(e))
		})
		w.Flush()
	} else {
		enc := json.NewEncoder(stdout)
		err = projections.ExportAudit(ctx, a.raw, f, func(e domain.RecordedEvent) error {
			progress()
			return enc.Encode(projections.NewAuditRecord(e))
		})
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return err
}

func runSetPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	fs := newFlagSet("accounts set-plan ACCOUNT_ID PLAN", "Moves an account to another plan (FREE, STARTER, PRO, ENTERPRISE). Downgrades keep all data;\nlimits only stop new creations.", stderr)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("need ACCOUNT_ID and PLAN")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("ACCOUNT_ID must be a positive integer, got %q", fs.Arg(0))
	}
	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	h := commands.NewChangePlanHandler(a.store, utcNow)
	pos, err := h.Handle(ctx, commands.ChangePlan{Actor: commands.Actor{Type: domain.ActorSystem, AccountID: id, CorrelationID: "cli"},
		AccountID: id, Plan: fs.Arg(1), Reason: "set by operator"})
	if err != nil {
		return fmt.Errorf("%s", domain.ErrorMessage(err))
	}
	// The servers read an account's plan from the accounts read model:
	// wait until it holds the change, so that the very next request
	// after this command is held to the new plan.
	waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := projections.NewQueries(a.db).WaitFor(waitCtx, []string{projections.Accounts{}.Name()}, pos); err != nil {
		fmt.Fprintf(stdout, "account %d is on plan %s in the log; no server has applied it yet (is one running?), and each will when it does\n", id, strings.ToUpper(fs.Arg(1)))
		return nil
	}
	fmt.Fprintf(stdout, "account %d is now on plan %s\n", id, strings.ToUpper(fs.Arg(1)))
	return nil
}

// runCreateAccount opens an account for someone from the command line,
// whatever the sign-up policy, with a one-time password printed once.
func runCreateAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	var email, plan, accountName, fullName, baseURL string
	fs := newFlagSet("accounts create --email EMAIL [--plan PLAN]",
		"Opens an account with its first user, an ADMIN, whatever --signup allows (the way to make the first\n"+
			"administrator of a server with --signup closed). Prints a one-time password for the first sign-in;\n"+
			"change it under Settings, Your profile.", stderr)
	c.register(fs)
	fs.StringVar(&email, "email", "", "required: the administrator's email address")
	fs.StringVar(&plan, "plan", string(domain.PlanFree), "the account's plan: FREE, STARTER, PRO or ENTERPRISE")
	fs.StringVar(&accountName, "account-name", "", "the account's name (default: the part of the email address before @)")
	fs.StringVar(&fullName, "name", "", "the administrator's full name")
	fs.StringVar(&baseURL, "base-url", env("MEDIALUNA_BASE_URL", ""), "the server's public URL, for the sign-in link printed (env MEDIALUNA_BASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if email == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--email is required, and nothing else is taken as an argument")
	}
	if _, ok := domain.LimitsOf(domain.Plan(strings.ToUpper(plan))); !ok {
		return fmt.Errorf("--plan %q: use FREE, STARTER, PRO or ENTERPRISE", plan)
	}
	if accountName == "" {
		accountName, _, _ = strings.Cut(email, "@")
	}
	a, err := openApp(ctx, c, c.logger(stderr), true)
	if err != nil {
		return err
	}
	defer a.close()
	password := oneTimePassword()
	res, err := commands.NewSignupHandler(a.store, postgres.NewIDs(a.db), utcNow).Handle(ctx, commands.Signup{CorrelationID: "cli",
		Email: email, Password: password, FullName: fullName, AccountName: accountName, ByOperator: true})
	if err != nil {
		return fmt.Errorf("%s", domain.ErrorMessage(err))
	}
	pos := res.Position
	if p := domain.Plan(strings.ToUpper(plan)); p != domain.PlanFree {
		changed, err := commands.NewChangePlanHandler(a.store, utcNow).Handle(ctx, commands.ChangePlan{Actor: commands.Actor{Type: domain.ActorSystem,
			AccountID: res.AccountID, CorrelationID: "cli"}, AccountID: res.AccountID, Plan: string(p), Reason: "set by operator"})
		if err != nil {
			return fmt.Errorf("account %d was created, but its plan was not set: %s", res.AccountID, domain.ErrorMessage(err))
		}
		if pos.Less(changed) {
			pos = changed
		}
	}
	// As set-plan does: return once the servers' accounts read model holds
	// the account, its ADMIN and its plan, so a sign-in right after this
	// command finds them (and is held to the plan asked for).
	waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pending := ""
	if err := projections.NewQueries(a.db).WaitFor(waitCtx, []string{projections.Accounts{}.Name()}, pos); err != nil {
		pending = "No server has applied it yet (is one running?); each will when it does.\n"
	}
	login := strings.TrimRight(baseURL, "/") + "/login"
	if baseURL == "" {
		login = "the server's /login page"
	}
	fmt.Fprintf(stdout, "Created account %d (%s, plan %s) with its ADMIN %s (user %d).\nOne-time password: %s\nSign in at %s and change it under Settings, Your profile; it is not shown again.\n%s",
		res.AccountID, accountName, strings.ToUpper(plan), email, res.UserID, password, login, pending)
	return nil
}

// oneTimePassword is 20 random characters from an alphabet without look-alikes.
func oneTimePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [20]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
