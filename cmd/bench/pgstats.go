package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// pgStats is PostgreSQL's own account of a window: which statements ran
// and for how long (pg_stat_statements, reset at the start), the WAL
// written (pg_stat_wal), rows written per table (pg_stat_user_tables) and
// transactions committed (pg_stat_database). The counters are cluster-wide
// or per database, so on a shared server they include other users.
type pgStats struct {
	db         *sqlx.DB
	statements bool // pg_stat_statements is loaded
	wal0       walStats
	tables0    map[string]tableStats
	commits0   int64
}

type walStats struct {
	Records int64 `db:"wal_records"`
	FPI     int64 `db:"wal_fpi"`
	Bytes   int64 `db:"wal_bytes"`
}

type tableStats struct {
	Name string `db:"relname"`
	Ins  int64  `db:"n_tup_ins"`
	Upd  int64  `db:"n_tup_upd"`
	HOT  int64  `db:"n_tup_hot_upd"`
	Del  int64  `db:"n_tup_del"`
}

type statementStats struct {
	Query  string  `db:"query"`
	Calls  int64   `db:"calls"`
	Total  float64 `db:"total_exec_time"`
	Rows   int64   `db:"rows"`
	Blocks int64   `db:"blocks"`
	WAL    int64   `db:"wal_bytes"`
}

func startPGStats(db *sqlx.DB) *pgStats {
	s := &pgStats{db: db}
	if _, err := db.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err == nil {
		_, err = db.Exec(`SELECT pg_stat_statements_reset()`)
		s.statements = err == nil
	}
	s.wal0, s.tables0, s.commits0 = s.snapshot()
	return s
}

func (s *pgStats) snapshot() (walStats, map[string]tableStats, int64) {
	var w walStats
	s.db.Get(&w, `SELECT wal_records, wal_fpi, wal_bytes::bigint AS wal_bytes FROM pg_stat_wal`)
	var rows []tableStats
	s.db.Select(&rows, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables`)
	tables := map[string]tableStats{}
	for _, r := range rows {
		tables[r.Name] = r
	}
	var commits int64
	s.db.Get(&commits, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)
	return w, tables, commits
}

// pgReport is what finish found.
type pgReport struct {
	wal        walStats
	tables     []tableStats
	commits    int64
	statements []statementStats
	statErr    error
}

func (s *pgStats) finish() pgReport {
	// Backends send their table counters at most once a second; give the
	// last ones time to arrive.
	time.Sleep(1500 * time.Millisecond)
	w, tables, commits := s.snapshot()
	r := pgReport{wal: walStats{w.Records - s.wal0.Records, w.FPI - s.wal0.FPI, w.Bytes - s.wal0.Bytes}, commits: commits - s.commits0}
	for name, t := range tables {
		t0 := s.tables0[name]
		d := tableStats{name, t.Ins - t0.Ins, t.Upd - t0.Upd, t.HOT - t0.HOT, t.Del - t0.Del}
		if d.Ins+d.Upd+d.Del > 0 {
			r.tables = append(r.tables, d)
		}
	}
	sort.Slice(r.tables, func(i, j int) bool {
		return r.tables[i].Ins+r.tables[i].Upd > r.tables[j].Ins+r.tables[j].Upd
	})
	if s.statements {
		r.statErr = s.db.Select(&r.statements, `SELECT query, calls, total_exec_time, rows,
				shared_blks_hit + shared_blks_read AS blocks, wal_bytes::bigint AS wal_bytes
			FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			ORDER BY total_exec_time DESC LIMIT 15`)
	}
	return r
}

func (r pgReport) print(checks int64, unit string) {
	if checks <= 0 {
		return
	}
	n := float64(checks)
	fmt.Printf("\nPostgreSQL per %s (%d %ss)\n", unit, checks, unit)
	fmt.Printf("  WAL                      %.0f bytes, %.2f records, %.3f full-page images\n", float64(r.wal.Bytes)/n, float64(r.wal.Records)/n, float64(r.wal.FPI)/n)
	fmt.Printf("  transactions committed   %.3f\n", float64(r.commits)/n)
	fmt.Printf("  rows written             %-24s %9s %9s %9s %6s\n", "table", "inserted", "updated", "deleted", "HOT")
	for _, t := range r.tables {
		hot := "-"
		if t.Upd > 0 {
			hot = fmt.Sprintf("%.0f%%", 100*float64(t.HOT)/float64(t.Upd))
		}
		fmt.Printf("                           %-24s %9.3f %9.3f %9.3f %6s\n", t.Name, float64(t.Ins)/n, float64(t.Upd)/n, float64(t.Del)/n, hot)
	}
	if r.statErr != nil {
		fmt.Printf("  statements               pg_stat_statements: %v\n", r.statErr)
		return
	}
	if len(r.statements) == 0 {
		fmt.Printf("  statements               pg_stat_statements is not loaded on this server\n")
		return
	}
	var total float64
	for _, st := range r.statements {
		total += st.Total
	}
	fmt.Printf("  top statements by execution time (ms per %[1]s, calls per %[1]s, rows and blocks per call, WAL bytes per %[1]s):\n", unit)
	for _, st := range r.statements {
		q := strings.Join(strings.Fields(st.Query), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		calls := max(st.Calls, 1)
		fmt.Printf("    %7.4f ms %7.4f calls %8.1f rows %8.1f blks %6.0f B  %s\n", st.Total/n, float64(st.Calls)/n,
			float64(st.Rows)/float64(calls), float64(st.Blocks)/float64(calls), float64(st.WAL)/n, q)
	}
}

// fetchProfile takes the server's CPU profile over d from its pprof
// endpoint and writes it to path.
func fetchProfile(base string, d time.Duration, path string) error {
	resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("pprof: %d %s", resp.StatusCode, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printProfileTop prints the server's hottest functions, flat and
// cumulative, with go tool pprof.
func printProfileTop(binary, path string) {
	for _, mode := range []string{"-top", "-top -cum"} {
		args := append([]string{"tool", "pprof"}, strings.Fields(mode)...)
		out, err := exec.Command("go", append(args, "-nodecount=25", binary, path)...).CombinedOutput()
		fmt.Printf("\nServer CPU profile (go tool pprof %s, %s):\n%s", mode, path, out)
		if err != nil {
			fmt.Printf("  pprof: %v\n", err)
		}
	}
}
