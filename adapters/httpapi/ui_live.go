package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// Live updates: the hub follows the log from where it stands when the
// server starts, waits until the read models have applied each batch, and
// tells every dashboard of the batch's account what changed, as
// Server-Sent Events. A page does not get data over the stream, only names
// of what changed: "monitors" (a status may have changed), "checks" (new
// results that repeat their region's last one: times and response times
// only), "monitor-42", "incidents", "incident-7", "maintenance",
// "account", "notifications" (channels, rules, deliveries), "status-pages",
// "team" (members, invitations, API keys), and "everything" when a change
// is too big to name;
// htmx refetches the fragments listening for them (hx-trigger="sse:..."),
// so what a page shows always comes from the read models through the same
// handlers as a reload. Each replica runs its own hub over the shared log
// and serves its own clients.
//
// A client's pending changes are a set, not a queue: a burst of check
// results for one monitor is one "monitor-N" event, and a client that is
// slow to read holds at most liveMaxIDs names (past that, "everything
// changed"). Each event's id is the log position it reflects; a browser
// that reconnects sends it back as Last-Event-ID and gets what changed
// since, read from the log.

const (
	liveHeartbeat  = 15 * time.Second
	liveMinGap     = 250 * time.Millisecond // coalescing window per client
	liveMaxIDs     = 200                    // named ids a client holds before "everything changed"
	liveCatchUpMax = 5000                   // events read from the log for a resume, at most
	liveBatch      = 500
	liveSettle     = 2 * time.Second // the longest a batch waits for the read models
	liveRecheck    = time.Minute     // how often a stream checks its session is still valid
)

// liveChange is what changed for one account, up to a log position.
type liveChange struct {
	pos       domain.Position
	all       bool // too much to name: every live fragment refetches
	monitors  map[int64]bool
	incidents map[int64]bool
	topics    map[string]bool // "monitors", "checks", "incidents", "account", "maintenance", "notifications", "status-pages", "team"
}

func newLiveChange() *liveChange {
	return &liveChange{monitors: map[int64]bool{}, incidents: map[int64]bool{}, topics: map[string]bool{}}
}

func (c *liveChange) empty() bool {
	return !c.all && len(c.topics) == 0 && len(c.monitors) == 0 && len(c.incidents) == 0
}

func (c *liveChange) merge(o *liveChange) {
	if c.pos.Less(o.pos) {
		c.pos = o.pos
	}
	c.all = c.all || o.all
	for t := range o.topics {
		c.topics[t] = true
	}
	if c.all {
		return // every fragment refetches: no id is worth holding
	}
	for id := range o.monitors {
		c.monitors[id] = true
	}
	for id := range o.incidents {
		c.incidents[id] = true
	}
	if len(c.monitors)+len(c.incidents) > liveMaxIDs {
		c.all = true
		clear(c.monitors)
		clear(c.incidents)
	}
}

// addEvent records what one event changes for the dashboards; seen (nil
// for none) tells a check result that repeats its region's last one.
func (c *liveChange) addEvent(rec domain.RecordedEvent, seen *lastResults) bool {
	// streamID is the aggregate id of a stream named prefix + id, or 0.
	streamID := func(prefix string) int64 {
		rest, ok := strings.CutPrefix(rec.StreamID, prefix)
		if !ok {
			return 0
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || id <= 0 {
			return 0
		}
		return id
	}
	switch rec.Type {
	case domain.EvCheckRecorded:
		var e struct {
			MonitorID int64 `json:"monitor_id"`
			RegionID  int64 `json:"region_id"`
			Up        bool  `json:"up"`
		}
		if json.Unmarshal(rec.Data, &e) != nil || e.MonitorID == 0 {
			return false
		}
		c.monitors[e.MonitorID] = true
		// A result like the region's last one changes times and response
		// times only: lists refresh on it now and then ("checks"), not at
		// once ("monitors", which a status change needs).
		if seen.repeats(rec.Metadata.AccountID, e.MonitorID, e.RegionID, e.Up) {
			c.topics["checks"] = true
		} else {
			c.topics["monitors"] = true
		}
	case domain.EvMonitorCreated, domain.EvMonitorUpdated, domain.EvMonitorPaused, domain.EvMonitorResumed, domain.EvMonitorDeleted:
		id := streamID("monitor-")
		if id == 0 {
			return false
		}
		c.monitors[id] = true
		c.topics["monitors"] = true
		if rec.Type == domain.EvMonitorDeleted {
			seen.forget(rec.Metadata.AccountID, id)
		}
	case domain.EvTagCreated, domain.EvTagDeleted:
		c.topics["monitors"] = true
	case domain.EvIncidentTriggered, domain.EvIncidentAcknowledged, domain.EvIncidentSnoozed, domain.EvIncidentCommented, domain.EvIncidentResolved:
		id := streamID("incident-")
		if id == 0 {
			return false
		}
		c.incidents[id] = true
		c.topics["incidents"] = true
		var e struct {
			MonitorID int64 `json:"monitor_id"`
		}
		if json.Unmarshal(rec.Data, &e) == nil && e.MonitorID != 0 {
			c.monitors[e.MonitorID] = true
		}
	case domain.EvMaintenanceScheduled, domain.EvMaintenanceUpdated, domain.EvMaintenanceToggled, domain.EvMaintenanceDeleted:
		c.topics["maintenance"] = true
		c.topics["monitors"] = true
	case domain.EvAccountUpdated, domain.EvPlanChanged, domain.EvSubscriptionChanged:
		c.topics["account"] = true
	case domain.EvNotificationChannelCreated, domain.EvNotificationChannelUpdated, domain.EvNotificationChannelDeleted,
		domain.EvNotificationRuleCreated, domain.EvNotificationRuleUpdated, domain.EvNotificationRuleDeleted,
		domain.EvNotificationQueued, domain.EvNotificationAttempted, domain.EvNotificationRetrying, domain.EvNotificationSuppressed:
		c.topics["notifications"] = true
	case domain.EvStatusPageCreated, domain.EvStatusPageUpdated, domain.EvStatusPageDeleted:
		c.topics["status-pages"] = true
	case domain.EvMemberInvited, domain.EvMemberJoined, domain.EvUserRegistered, domain.EvAPIKeyCreated, domain.EvAPIKeyRevoked,
		domain.EvMemberRoleChanged, domain.EvMemberRemoved, domain.EvInviteRevoked, domain.EvInviteResent,
		domain.EvUserRenamed, domain.EvTwoFactorEnabled, domain.EvTwoFactorDisabled:
		c.topics["team"] = true
	default:
		return false
	}
	return true
}

// lastResults remembers, for the accounts with dashboards connected, each
// monitor's and region's last result (up or not), so a check that changes
// nothing but times is told apart from one that may change a status.
// Only the hub's follower touches it.
type lastResults struct {
	byAccount map[int64]map[[2]int64]bool
}

// repeats records up as the region's last result and reports whether it
// was the last one already. Unknown (a nil receiver, an account not
// tracked, a first result) is "changed".
func (l *lastResults) repeats(account, monitor, region int64, up bool) bool {
	if l == nil {
		return false
	}
	results, ok := l.byAccount[account]
	if !ok {
		return false
	}
	key := [2]int64{monitor, region}
	last, known := results[key]
	results[key] = up
	return known && last == up
}

func (l *lastResults) forget(account, monitor int64) {
	if l == nil {
		return
	}
	for key := range l.byAccount[account] {
		if key[0] == monitor {
			delete(l.byAccount[account], key)
		}
	}
}

// track keeps the accounts that have dashboards and drops the others'.
func (l *lastResults) track(accounts map[int64]bool) {
	for acc := range l.byAccount {
		if !accounts[acc] {
			delete(l.byAccount, acc)
		}
	}
	for acc := range accounts {
		if l.byAccount[acc] == nil {
			l.byAccount[acc] = map[[2]int64]bool{}
		}
	}
}

// liveClient is one connected dashboard.
type liveClient struct {
	accountID int64
	mu        sync.Mutex
	pending   *liveChange
	wake      chan struct{} // capacity 1: "pending has something"
}

func (c *liveClient) offer(ch *liveChange) {
	c.mu.Lock()
	c.pending.merge(ch)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *liveClient) take() *liveChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := c.pending
	c.pending = newLiveChange()
	c.pending.pos = ch.pos
	return ch
}

// liveHub fans the log out to the connected dashboards.
type liveHub struct {
	s *Server

	seen    *lastResults    // the follower's own
	ctx     context.Context // the follower's, while it runs
	closing chan struct{}   // closed when the server shuts down (CloseLive)
	once    sync.Once

	mu      sync.Mutex
	clients map[int64]map[*liveClient]bool // by account
	pos     domain.Position                // the last position delivered
}

func newLiveHub(s *Server) *liveHub {
	return &liveHub{s: s, clients: map[int64]map[*liveClient]bool{}, closing: make(chan struct{}),
		seen: &lastResults{byAccount: map[int64]map[[2]int64]bool{}}, ctx: context.Background()}
}

// CloseLive ends every dashboard's event stream, for a graceful shutdown:
// http.Server.Shutdown waits for open requests but does not cancel them,
// and a stream never ends by itself. Browsers reconnect to another replica
// (or to this one once it is back) and catch up from their last event.
func (s *Server) CloseLive() {
	s.ui.live.once.Do(func() { close(s.ui.live.closing) })
}

// RunLive follows the log for the dashboards' live updates until ctx ends;
// main runs it beside the server. It starts at the log's head: clients
// that were away catch up from their own Last-Event-ID.
func (s *Server) RunLive(ctx context.Context) error {
	return s.ui.live.run(ctx)
}

func (h *liveHub) run(ctx context.Context) error {
	for ctx.Err() == nil {
		h.ctx = ctx
		// The first start begins at the head (clients catch up from their
		// own positions); a restart after a failure goes on from the last
		// batch delivered, so connected pages miss nothing of the outage.
		h.mu.Lock()
		from := h.pos
		h.mu.Unlock()
		var err error
		if from == (domain.Position{}) {
			from, err = h.s.deps.Store.Head(ctx)
			h.mu.Lock()
			h.pos = from
			h.mu.Unlock()
		}
		if err == nil {
			err = h.s.deps.Store.Follow(ctx, from, liveBatch, h.deliver)
		}
		if ctx.Err() != nil {
			return nil
		}
		h.s.deps.Log.Warn("live updates: following the log failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// deliver hands one batch of the log to its accounts' clients, once the
// read models have applied it, so a fragment refetched on the news shows it.
// What changed is worked out for every account, outside the lock: a client
// that connects while the read models catch up still hears of the batch.
func (h *liveHub) deliver(batch []domain.RecordedEvent) error {
	if len(batch) == 0 {
		return nil
	}
	last := batch[len(batch)-1].Position
	h.mu.Lock()
	watched := make(map[int64]bool, len(h.clients))
	for acc := range h.clients {
		watched[acc] = true
	}
	h.mu.Unlock()
	h.seen.track(watched)
	byAccount := map[int64]*liveChange{}
	for _, rec := range batch {
		acc := rec.Metadata.AccountID
		if acc == 0 {
			continue
		}
		ch := byAccount[acc]
		if ch == nil {
			ch = newLiveChange()
			byAccount[acc] = ch
		}
		ch.addEvent(rec, h.seen)
	}
	if len(byAccount) > 0 {
		// Bounded: a read model that is stuck delays the news by at most
		// this much a batch; the pages then read what is there.
		ctx, cancel := context.WithTimeout(h.ctx, liveSettle)
		if err := h.s.deps.Queries.WaitFor(ctx, h.s.deps.ReadModels, last); err != nil && h.ctx.Err() == nil {
			h.s.deps.Log.Debug("live updates: read models behind; telling clients anyway", "err", err)
		}
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pos = last
	for acc, ch := range byAccount {
		if ch.empty() {
			continue
		}
		ch.pos = last
		for c := range h.clients[acc] {
			c.offer(ch)
		}
	}
	return nil
}

// current is the position of the last batch handed to clients.
func (h *liveHub) current() domain.Position {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pos
}

func (h *liveHub) subscribe(accountID int64) (*liveClient, domain.Position) {
	c := &liveClient{accountID: accountID, pending: newLiveChange(), wake: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[accountID] == nil {
		h.clients[accountID] = map[*liveClient]bool{}
	}
	h.clients[accountID][c] = true
	c.pending.pos = h.pos
	return c, h.pos
}

func (h *liveHub) unsubscribe(c *liveClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients[c.accountID], c)
	if len(h.clients[c.accountID]) == 0 {
		delete(h.clients, c.accountID)
	}
}

// catchUp reads what changed for an account between from and to, at most
// liveCatchUpMax events; further back than that, everything changed.
func (h *liveHub) catchUp(ctx context.Context, accountID int64, from, to domain.Position) *liveChange {
	ch := newLiveChange()
	ch.pos = to
	read := 0
	for from.Less(to) {
		recs, err := h.s.deps.Store.ReadAll(ctx, from, liveBatch)
		if err != nil || len(recs) == 0 {
			ch.all = err != nil
			return ch
		}
		for _, rec := range recs {
			if to.Less(rec.Position) {
				return ch
			}
			if rec.Metadata.AccountID == accountID {
				ch.addEvent(rec, nil)
			}
		}
		from = recs[len(recs)-1].Position
		if read += len(recs); read >= liveCatchUpMax {
			ch.all = true
			return ch
		}
	}
	return ch
}

func formatLivePos(p domain.Position) string { return fmt.Sprintf("%d-%d", p.Commit, p.Prepare) }

func parseLivePos(s string) (domain.Position, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return domain.Position{}, false
	}
	c, err1 := strconv.ParseUint(a, 10, 64)
	p, err2 := strconv.ParseUint(b, 10, 64)
	return domain.Position{Commit: c, Prepare: p}, err1 == nil && err2 == nil
}

// uiLive is the event stream a signed-in page listens to. A page renders
// the hub's position into its stream's address (since), so what happens
// between rendering and connecting is caught up from the log; a browser
// reconnecting sends the last event's id (Last-Event-ID), which wins.
func (s *Server) uiLive(w http.ResponseWriter, r *http.Request, v *viewer) error {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("live updates need a flushing response writer")
	}
	c, now := s.ui.live.subscribe(v.AccountID)
	defer s.ui.live.unsubscribe(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\nid: %s\nevent: hello\ndata: %s\n\n", formatLivePos(now), formatLivePos(now))
	from, ok := parseLivePos(r.Header.Get("Last-Event-ID"))
	if !ok {
		from, ok = parseLivePos(r.URL.Query().Get("since"))
	}
	if ok && from.Less(now) {
		if ch := s.ui.live.catchUp(r.Context(), v.AccountID, from, now); !ch.empty() {
			c.offer(ch)
		}
	}
	flusher.Flush()

	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	recheck := time.NewTicker(liveRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.ui.live.closing:
			return nil
		case <-recheck.C:
			// Logging out (or being removed) ends the session; its
			// streams end within a minute.
			if again, err := s.uiViewer(r); err != nil || again.AccountID != v.AccountID {
				return nil
			}
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
			flusher.Flush()
		case <-c.wake:
			if err := writeLiveChange(w, c.take()); err != nil {
				return nil
			}
			flusher.Flush()
			// Coalesce: what arrives in the next moment goes out together.
			select {
			case <-r.Context().Done():
				return nil
			case <-s.ui.live.closing:
				return nil
			case <-time.After(liveMinGap):
			}
		}
	}
}

// writeLiveChange writes one change as SSE events, each carrying the
// position as its id.
func writeLiveChange(w http.ResponseWriter, ch *liveChange) error {
	if ch.empty() {
		return nil
	}
	id := formatLivePos(ch.pos)
	var b strings.Builder
	event := func(name, data string) {
		fmt.Fprintf(&b, "id: %s\nevent: %s\ndata: %s\n\n", id, name, data)
	}
	if ch.all {
		for _, t := range []string{"monitors", "checks", "incidents", "maintenance", "account", "notifications", "status-pages", "team", "everything"} {
			event(t, "*")
		}
	} else {
		topics := make([]string, 0, len(ch.topics))
		for t := range ch.topics {
			topics = append(topics, t)
		}
		slices.Sort(topics)
		for _, t := range topics {
			event(t, t)
		}
		for _, id := range sortedIDs(ch.monitors) {
			event("monitor-"+strconv.FormatInt(id, 10), strconv.FormatInt(id, 10))
		}
		for _, id := range sortedIDs(ch.incidents) {
			event("incident-"+strconv.FormatInt(id, 10), strconv.FormatInt(id, 10))
		}
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

func sortedIDs(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
