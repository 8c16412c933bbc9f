package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/medialuna/medialuna/adapters/importfile"
	"github.com/medialuna/medialuna/adapters/postgres"
	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

const monitorsUsage = `  medialuna monitors import FILE --account N [--format gatus|json|csv] [--dry-run]
                                  create monitors from a Gatus configuration or a JSON/CSV list
`

// maxImportFile bounds the file read, as the API's body limit does.
const maxImportFile = 1 << 20

// runImportMonitors imports monitors into an account from a file, as
// POST /api/monitors/import does, and prints the report.
func runImportMonitors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c commonConfig
	var account int64
	var format string
	var dryRun, asJSON bool
	var minInterval int
	fs := newFlagSet("monitors import FILE --account N [--format gatus|json|csv] [--dry-run]",
		"Creates the monitors a file describes in account N, each as POST /api/v1/monitors would (the account's plan,\n"+
			"limits and validation apply; a refused entry does not stop the others), and reports per entry what it created\n"+
			"or why not. FILE is a Gatus configuration (endpoints:, with groups becoming tags), a JSON array of create-monitor\n"+
			"bodies (plus \"tags\": [names]) or a CSV list with a header row; - reads stdin. At most 1000 monitors and 1 MiB.\n"+
			"Exits 1 when an entry failed.", stderr)
	c.register(fs)
	fs.Int64Var(&account, "account", 0, "required: the id of the account the monitors are created in")
	fs.StringVar(&format, "format", "", "gatus, json or csv (default: from FILE's extension: .yaml/.yml, .json, .csv)")
	fs.BoolVar(&dryRun, "dry-run", false, "decide every entry and report, creating nothing")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON, as the API answers")
	fs.IntVar(&minInterval, "min-check-interval", envInt("MEDIALUNA_MIN_CHECK_INTERVAL"), "seconds: the server's floor under every plan's minimum check_interval (env MEDIALUNA_MIN_CHECK_INTERVAL)")
	// FILE may come before the flags, as the usage line shows it.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") || len(args) > 0 && args[0] == "-" {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("one FILE only, got %q", fs.Args())
	}
	if file == "" || account <= 0 {
		fs.Usage()
		return fmt.Errorf("FILE and --account (a positive account id) are required")
	}
	var f importfile.Format
	if format != "" {
		parsed, err := importfile.ParseFormat(format)
		if err != nil {
			return fmt.Errorf("--format: %s", domain.ErrorMessage(err))
		}
		f = parsed
	} else if guessed, ok := importfile.FormatOfFileName(file); ok {
		f = guessed
	} else {
		return fmt.Errorf("cannot tell the format of %q from its name: add --format gatus, json or csv", file)
	}
	data, err := readImportFile(file)
	if err != nil {
		return err
	}
	entries, err := importfile.Parse(f, data)
	if err != nil {
		return fmt.Errorf("%s: %s", file, domain.ErrorMessage(err))
	}

	a, err := openApp(ctx, c, c.logger(stderr), false)
	if err != nil {
		return err
	}
	defer a.close()
	queries := projections.NewQueries(a.db)
	h := commands.NewImportMonitorsHandler(a.store, postgres.NewIDs(a.db), utcNow, queries, minInterval)
	plan, err := h.AccountPlan(ctx, account)
	if err != nil {
		return fmt.Errorf("%s", domain.ErrorMessage(err))
	}
	res, err := h.Handle(ctx, commands.ImportMonitors{Actor: commands.Actor{Type: domain.ActorSystem, AccountID: account, CorrelationID: "cli"},
		Plan: plan, Entries: entries, DryRun: dryRun})
	if err != nil {
		return operatorError(err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printImportReport(stdout, res)
	}
	if res.Err != nil {
		return fmt.Errorf("the import stopped after %d monitors: %w", res.Created, operatorError(res.Err))
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d entries were not imported", res.Failed, len(res.Entries))
	}
	return nil
}

// operatorError is what the operator reads of err: the domain's message,
// or the failure itself (the operator may see internals), with a hint when
// the read models were never built.
func operatorError(err error) error {
	if domain.ErrorCode(err) != domain.ErrInternal {
		return fmt.Errorf("%s", domain.ErrorMessage(err))
	}
	if strings.Contains(err.Error(), "does not exist") {
		return fmt.Errorf("%w (the read models are not built: start 'medialuna serve' once on this database)", err)
	}
	return err
}

func readImportFile(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxImportFile {
		return nil, fmt.Errorf("%s is larger than 1 MiB: split it", name)
	}
	return data, nil
}

// printImportReport writes one line per entry, its warnings indented
// below, and a summary. Names are quoted (%q): a file's text is shown as
// text, never as terminal control sequences.
func printImportReport(w io.Writer, res commands.ImportResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tLINE\tNAME\tSTATUS\tMONITOR\tDETAIL")
	for _, e := range res.Entries {
		id := "-"
		if e.MonitorID != 0 {
			id = fmt.Sprint(e.MonitorID)
		}
		fmt.Fprintf(tw, "%d\t%d\t%q\t%s\t%s\t%s\n", e.Index, e.Line, e.Name, e.Status, id, quoteControl(e.Error))
		for _, warning := range e.Warnings {
			fmt.Fprintf(tw, "\t\t\twarning\t\t%s\n", quoteControl(warning))
		}
	}
	tw.Flush()
	verb := "created"
	if res.DryRun {
		verb = "would be created (dry run: nothing was)"
		n := 0
		for _, e := range res.Entries {
			if e.Status == commands.ImportWouldCreate {
				n++
			}
		}
		res.Created = n
	}
	fmt.Fprintf(w, "%d monitors %s, %d failed\n", res.Created, verb, res.Failed)
}

// quoteControl escapes the control characters a message may repeat from a
// file, keeping the rest readable.
func quoteControl(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) }) {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}
