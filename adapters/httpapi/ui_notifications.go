package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Notification channels and rules: the list of both, a channel's page
// with its delivery log and a Send test button, the channel and rule
// forms and their deletions. Every write goes through the commands the
// API's handlers_channels.go uses; their refusals come back next to the
// fields they name (the fields are named as in the API).
//
// Secrets: a channel's tokens, routing keys and Slack webhook path are
// shown masked, as the API shows them; on edit, a secret field left empty
// keeps the stored value. A WEBHOOK channel's signing secret is shown once,
// on the page after it is created (carried there in a sealed, one-use,
// short-lived cookie, so a reload does not show it again), never after.

func (s *Server) uiNotificationRoutes() {
	s.uiRoute("GET", "/notifications", domain.RoleViewer, s.uiNotifications)
	s.uiRoute("GET", "/notifications/channels/new", domain.RoleViewer, s.uiNewChannel)
	s.uiRoute("POST", "/notifications/channels", domain.RoleEditor, s.uiCreateChannel)
	s.uiRoute("GET", "/notifications/channels/{id:[0-9]+}", domain.RoleViewer, s.uiChannel)
	s.uiRoute("GET", "/notifications/channels/{id:[0-9]+}/created", domain.RoleViewer, s.uiChannelCreated)
	s.uiRoute("GET", "/notifications/channels/{id:[0-9]+}/edit", domain.RoleViewer, s.uiEditChannel)
	s.uiRoute("POST", "/notifications/channels/{id:[0-9]+}", domain.RoleEditor, s.uiUpdateChannel)
	s.uiRoute("POST", "/notifications/channels/{id:[0-9]+}/test", domain.RoleEditor, s.uiTestChannel)
	s.uiRoute("GET", "/notifications/channels/{id:[0-9]+}/delete", domain.RoleViewer, s.uiDeleteChannelPage)
	s.uiRoute("POST", "/notifications/channels/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteChannel)
	s.uiRoute("GET", "/notifications/rules/new", domain.RoleViewer, s.uiNewRule)
	s.uiRoute("POST", "/notifications/rules", domain.RoleEditor, s.uiCreateRule)
	s.uiRoute("GET", "/notifications/rules/{id:[0-9]+}/edit", domain.RoleViewer, s.uiEditRule)
	s.uiRoute("POST", "/notifications/rules/{id:[0-9]+}", domain.RoleEditor, s.uiUpdateRule)
	s.uiRoute("GET", "/notifications/rules/{id:[0-9]+}/delete", domain.RoleViewer, s.uiDeleteRulePage)
	s.uiRoute("POST", "/notifications/rules/{id:[0-9]+}/delete", domain.RoleEditor, s.uiDeleteRule)
}

// uiChannelTypes are the channel types, in the order the form offers them.
var uiChannelTypes = []uiChoice{
	{string(domain.ChannelEmail), "Email"},
	{string(domain.ChannelWebhook), "Webhook"},
	{string(domain.ChannelSlack), "Slack"},
	{string(domain.ChannelPagerDuty), "PagerDuty"},
	{string(domain.ChannelSMS), "SMS (Twilio)"},
	{string(domain.ChannelTelegram), "Telegram"},
}

type uiChoice struct{ Value, Label string }

func channelTypeLabel(t domain.ChannelType) string {
	for _, c := range uiChannelTypes {
		if c.Value == string(t) {
			return c.Label
		}
	}
	return string(t)
}

// channelTarget says where a channel delivers, secrets masked (the view
// is masked already) and a webhook URL's password and query left out.
func channelTarget(c domain.ChannelConfig) string {
	switch c.Type {
	case domain.ChannelEmail:
		return c.EmailRecipient
	case domain.ChannelSMS:
		return c.PhoneNumber
	case domain.ChannelSlack:
		return c.SlackWebhookURL
	case domain.ChannelPagerDuty:
		return "routing key " + c.PagerDutyRoutingKey
	case domain.ChannelWebhook:
		u, err := url.Parse(c.WebhookURL)
		if err != nil {
			return "(an unreadable URL)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "********")
		}
		if u.RawQuery != "" {
			u.RawQuery = "…"
		}
		out, _ := url.PathUnescape(u.String())
		return out
	case domain.ChannelTelegram:
		return "chat " + c.TelegramChatID + " (bot " + c.TelegramBotToken + ")"
	}
	return ""
}

// The list.

type uiChannelRow struct {
	projections.ChannelView
	TypeLabel string
	Target    string
	Last      *projections.DeliveryRow
}

type uiRuleRow struct {
	projections.RuleView
	Conditions string
	Channels   []string
	Monitors   []string // none: every monitor
}

type uiNotificationsData struct {
	Channels []uiChannelRow
	Rules    []uiRuleRow
}

func (s *Server) uiNotifications(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	channels, err := s.deps.Queries.Channels(ctx, v.AccountID, 0)
	if err != nil {
		return err
	}
	rules, err := s.deps.Queries.Rules(ctx, v.AccountID, 0)
	if err != nil {
		return err
	}
	monitors, err := s.deps.Queries.MonitorChoices(ctx, v.AccountID)
	if err != nil {
		return err
	}
	var d uiNotificationsData
	names := map[int64]string{}
	for _, ch := range channels {
		row := uiChannelRow{ChannelView: ch, TypeLabel: channelTypeLabel(ch.Type), Target: channelTarget(ch.ChannelConfig)}
		last, err := s.deps.Queries.Deliveries(ctx, v.AccountID, ch.ID, 0, 1)
		if err != nil {
			return err
		}
		if len(last) > 0 {
			row.Last = &last[0]
		}
		d.Channels = append(d.Channels, row)
		names[ch.ID] = ch.Name
	}
	monitorNames := map[int64]string{}
	for _, m := range monitors {
		monitorNames[m.ID] = m.Name
	}
	for _, rule := range rules {
		row := uiRuleRow{RuleView: rule, Conditions: conditionSummary(rule.Conditions)}
		for _, id := range rule.ChannelIDs {
			row.Channels = append(row.Channels, names[id])
		}
		for _, id := range rule.MonitorIDs {
			row.Monitors = append(row.Monitors, monitorNames[id])
		}
		d.Rules = append(d.Rules, row)
	}
	return s.render(w, r, http.StatusOK, "notifications", uiPage{Title: "Notifications", Nav: "notifications", Viewer: v, Data: d})
}

var uiOperators = []uiChoice{{"gt", "above"}, {"gte", "at or above"}, {"lt", "below"}, {"lte", "at or below"}, {"eq", "exactly"}}

func operatorLabel(op string) string {
	for _, o := range uiOperators {
		if o.Value == op {
			return o.Label
		}
	}
	return op
}

// conditionSummary says a rule's conditions for people.
func conditionSummary(cs []domain.Condition) string {
	var parts []string
	for _, c := range cs {
		switch c.Type {
		case "STATUS":
			if c.Value == "up" {
				parts = append(parts, "monitor recovers")
			} else {
				parts = append(parts, "monitor goes down")
			}
		case "RESPONSE_TIME":
			ms, _ := c.Value.(float64)
			parts = append(parts, "response time "+operatorLabel(c.Operator)+" "+strconv.FormatFloat(ms, 'f', -1, 64)+" ms")
		}
	}
	return strings.Join(parts, "; ")
}

// A channel's page: its settings, Send test and its delivery log.

const uiDeliveriesPageSize = 25

type uiTestResult struct {
	Delivered bool
	Error     string
}

type uiChannelData struct {
	uiChannelRow
	Deliveries []projections.DeliveryRow
	Page       int
	PrevURL    string
	NextURL    string
	Test       *uiTestResult
}

// pageChannel is the path's channel, if it is the viewer's account's.
func (s *Server) pageChannel(r *http.Request, v *viewer) (projections.ChannelView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.ChannelView{}, err
	}
	list, err := s.deps.Queries.Channels(r.Context(), v.AccountID, id)
	if err != nil {
		return projections.ChannelView{}, err
	}
	return list[0], nil
}

func (s *Server) uiChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	page := 1
	if raw := r.URL.Query().Get("page"); raw != "" {
		if page, err = strconv.Atoi(raw); err != nil || page < 1 || page > 100000 {
			return badRequest("query parameter page must be a page number")
		}
	}
	rows, err := s.deps.Queries.Deliveries(r.Context(), v.AccountID, ch.ID, (page-1)*uiDeliveriesPageSize, uiDeliveriesPageSize+1)
	if err != nil {
		return err
	}
	d := uiChannelData{uiChannelRow: uiChannelRow{ChannelView: ch, TypeLabel: channelTypeLabel(ch.Type), Target: channelTarget(ch.ChannelConfig)},
		Page: page}
	if r.Header.Get("HX-Request") != "true" {
		// A live refresh of the log must not take the outcome the page
		// shows above it.
		d.Test = s.takeTestOutcome(w, r, ch.ID)
	}
	base := "/notifications/channels/" + strconv.FormatInt(ch.ID, 10)
	if len(rows) > uiDeliveriesPageSize {
		rows = rows[:uiDeliveriesPageSize]
		d.NextURL = base + "?page=" + strconv.Itoa(page+1)
	}
	if page > 1 {
		d.PrevURL = base + "?page=" + strconv.Itoa(page-1)
	}
	d.Deliveries = rows
	return s.render(w, r, http.StatusOK, "channel", uiPage{Title: ch.Name, Nav: "notifications", Viewer: v, Data: d})
}

// uiTestChannel sends a test notification as the API's
// POST /api/notification-channels/{id}/test does (the send is bounded,
// 15 s, so the post waits for it), then redirects to the channel's page,
// which shows the outcome once: reloading that page sends nothing again.
func (s *Server) uiTestChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	res := uiTestResult{Delivered: true}
	if err := s.sendTestNotification(r.Context(), v.AccountID, ch.ID, "test-"+requestID(r)); err != nil {
		if domain.ErrorCode(err) != domain.ErrInvalid {
			return err
		}
		res = uiTestResult{Error: domain.ErrorMessage(err)}
	}
	s.setTestOutcome(w, r, ch.ID, res)
	return redirect(w, r, "/notifications/channels/"+strconv.FormatInt(ch.ID, 10))
}

// Send test's outcome travels to the channel's page in a cookie for that
// page's path, for a minute, taken when shown. It holds no secret (the
// senders redact theirs from their errors) and is shown as text.
const (
	testOutcomeCookie = "ml_test"
	maxTestError      = 1000 // bytes of the error kept, well inside a cookie
)

func testOutcomePath(id int64) string { return "/notifications/channels/" + strconv.FormatInt(id, 10) }

func (s *Server) setTestOutcome(w http.ResponseWriter, r *http.Request, id int64, res uiTestResult) {
	value := "delivered"
	if !res.Delivered {
		msg := res.Error
		if len(msg) > maxTestError {
			msg = strings.ToValidUTF8(msg[:maxTestError], "") + "…"
		}
		value = "failed:" + msg
	}
	c := s.cookie(r, testOutcomeCookie, url.QueryEscape(value), time.Minute)
	c.Path = testOutcomePath(id)
	http.SetCookie(w, c)
}

func (s *Server) takeTestOutcome(w http.ResponseWriter, r *http.Request, id int64) *uiTestResult {
	value, err := url.QueryUnescape(s.takePathCookie(w, r, testOutcomeCookie, testOutcomePath(id)))
	if err != nil {
		return nil
	}
	if value == "delivered" {
		return &uiTestResult{Delivered: true}
	}
	if msg, ok := strings.CutPrefix(value, "failed:"); ok {
		return &uiTestResult{Error: msg}
	}
	return nil
}

// The signing secret, once.

const secretCookie = "ml_once"

// setOnceSecret hands the secret to the next page only: sealed, for that
// page's path, for five minutes, taken when read.
func (s *Server) setOnceSecret(w http.ResponseWriter, r *http.Request, v *viewer, id int64, secret string) error {
	sealed, err := s.sealForSession(v, channelSecretBinding(id), secret)
	if err != nil {
		return err
	}
	c := s.cookie(r, secretCookie, sealed, 5*time.Minute)
	c.Path = "/notifications/channels/" + strconv.FormatInt(id, 10) + "/created"
	c.SameSite = http.SameSiteStrictMode
	http.SetCookie(w, c)
	return nil
}

// channelSecretBinding ties a sealed secret to one channel.
func channelSecretBinding(id int64) string { return "channel " + strconv.FormatInt(id, 10) }

// takeOnceSecret returns the secret the creating request left, and
// removes it.
func (s *Server) takeOnceSecret(w http.ResponseWriter, r *http.Request, v *viewer, id int64) string {
	sealed := s.takePathCookie(w, r, secretCookie, "/notifications/channels/"+strconv.FormatInt(id, 10)+"/created")
	if sealed == "" {
		return ""
	}
	plain, _ := s.openForSession(v, channelSecretBinding(id), sealed)
	return plain
}

// uiVerifyShell and uiVerifyGo show receivers how to check a delivery's
// signature, as adapters/notify/webhook signs it: the header
// X-Media-Luna-Signature carries t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<raw body>" keyed with the secret>.
const uiVerifyShell = `# t and v1 from the X-Media-Luna-Signature header: t=<t>,v1=<v1>
# body.json: the request body exactly as received
{ printf '%s.' "$t"; cat body.json; } \
  | openssl dgst -sha256 -hmac "$MEDIALUNA_WEBHOOK_SECRET" -hex
# the hex digest printed must equal v1, and t must be within 5 minutes of now`

const uiVerifyGo = `// verify reports whether a delivery is genuine: header is the
// X-Media-Luna-Signature value, body the raw request body.
func verify(secret, header string, body []byte, now time.Time) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(unix, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}`

type uiChannelCreatedData struct {
	ID          int64
	Name        string
	Secret      string // "" once shown
	VerifyShell string
	VerifyGo    string
}

func (s *Server) uiChannelCreated(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	if ch.Type != domain.ChannelWebhook {
		http.Redirect(w, r, "/notifications/channels/"+strconv.FormatInt(ch.ID, 10), http.StatusSeeOther)
		return nil
	}
	d := uiChannelCreatedData{ID: ch.ID, Name: ch.Name, Secret: s.takeOnceSecret(w, r, v, ch.ID), VerifyShell: uiVerifyShell, VerifyGo: uiVerifyGo}
	return s.render(w, r, http.StatusOK, "channel_created", uiPage{Title: "Signing secret of " + ch.Name, Nav: "notifications", Viewer: v, Data: d})
}

// takePathCookie returns the value of the one-use cookie name, set for
// path, and removes it; "" when there is none.
func (s *Server) takePathCookie(w http.ResponseWriter, r *http.Request, name, path string) string {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return ""
	}
	gone := s.cookie(r, name, "", -1)
	gone.Path = path
	http.SetCookie(w, gone)
	return c.Value
}

// The channel form.

// channelFields are the form's values as typed.
type channelFields struct {
	Name, Type, Email, Phone, SlackURL, WebhookURL, RoutingKey, BotToken, ChatID string
	Enabled                                                                      bool
}

func channelFieldsOf(c domain.ChannelConfig) channelFields {
	return channelFields{Name: c.Name, Type: string(c.Type), Email: c.EmailRecipient, Phone: c.PhoneNumber, SlackURL: c.SlackWebhookURL,
		WebhookURL: c.WebhookURL, RoutingKey: c.PagerDutyRoutingKey, BotToken: c.TelegramBotToken, ChatID: c.TelegramChatID, Enabled: c.Enabled}
}

func postedChannelFields(r *http.Request, base channelFields) channelFields {
	f := base
	text := func(field string, into *string) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = strings.TrimSpace(vs[0])
		}
	}
	text("name", &f.Name)
	text("channel_type", &f.Type)
	text("email_recipient", &f.Email)
	text("phone_number", &f.Phone)
	text("slack_webhook_url", &f.SlackURL)
	text("webhook_url", &f.WebhookURL)
	text("pagerduty_routing_key", &f.RoutingKey)
	text("telegram_bot_token", &f.BotToken)
	text("telegram_chat_id", &f.ChatID)
	if vs, ok := r.PostForm["enabled"]; ok && len(vs) > 0 {
		f.Enabled = vs[len(vs)-1] == "true"
	}
	return f
}

// config is the channel the fields describe: only the fields of its type
// (a form without script posts every type's).
func (f channelFields) config() domain.ChannelConfig {
	c := domain.ChannelConfig{Name: f.Name, Type: domain.ChannelType(strings.ToUpper(f.Type)), Enabled: f.Enabled}
	switch c.Type {
	case domain.ChannelEmail:
		c.EmailRecipient = f.Email
	case domain.ChannelSMS:
		c.PhoneNumber = f.Phone
	case domain.ChannelSlack:
		c.SlackWebhookURL = f.SlackURL
	case domain.ChannelPagerDuty:
		c.PagerDutyRoutingKey = f.RoutingKey
	case domain.ChannelWebhook:
		c.WebhookURL = f.WebhookURL
	case domain.ChannelTelegram:
		c.TelegramBotToken, c.TelegramChatID = f.BotToken, f.ChatID
	}
	return c
}

type uiChannelFormData struct {
	ID      int64
	Action  string
	Heading string
	Submit  string
	F       channelFields
	Masked  domain.ChannelConfig // an existing channel's secrets, masked
	Types   []uiChoice
}

func (s *Server) renderChannelForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, id int64, f channelFields, masked domain.ChannelConfig, errs map[string]string) error {
	d := uiChannelFormData{ID: id, F: f, Masked: masked, Types: uiChannelTypes}
	if id == 0 {
		d.Action, d.Heading, d.Submit = "/notifications/channels", "New notification channel", "Create channel"
	} else {
		d.Action, d.Heading, d.Submit = "/notifications/channels/"+strconv.FormatInt(id, 10), "Edit "+masked.Name, "Save changes"
	}
	if len(errs) > 0 && errs[""] == "" {
		errs[""] = "The channel was not saved: correct the fields marked below."
	}
	return s.render(w, r, status, "channel_form", uiPage{Title: d.Heading, Nav: "notifications", Viewer: v, Errors: errs, Data: d})
}

func (s *Server) uiNewChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	f := channelFields{Type: string(domain.ChannelEmail), Enabled: true}
	if t := strings.ToUpper(r.URL.Query().Get("type")); slices.ContainsFunc(uiChannelTypes, func(c uiChoice) bool { return c.Value == t }) {
		f.Type = t
	}
	return s.renderChannelForm(w, r, v, http.StatusOK, 0, f, domain.ChannelConfig{}, nil)
}

func (s *Server) uiCreateChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f := postedChannelFields(r, channelFields{Enabled: true})
	id, secret, pos, err := s.deps.CreateChannel.Handle(r.Context(), commands.CreateChannel{Actor: v.actor(r), Config: f.config()})
	if err != nil {
		errs, ok := formErrors(err)
		if !ok {
			return err
		}
		return s.renderChannelForm(w, r, v, statusOf(domain.ErrorCode(err)), 0, f, domain.ChannelConfig{}, errs)
	}
	page := "/notifications/channels/" + strconv.FormatInt(id, 10)
	if secret != "" {
		if err := s.setOnceSecret(w, r, v, id, secret); err != nil {
			return err
		}
		s.settleUI(w, r, pos, "Channel created. Copy its signing secret now: it is not shown again.")
		return redirect(w, r, page+"/created")
	}
	s.settleUI(w, r, pos, "Channel created.")
	return redirect(w, r, page)
}

func (s *Server) uiEditChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	return s.renderChannelForm(w, r, v, http.StatusOK, ch.ID, editableFields(ch.ChannelConfig), ch.ChannelConfig, nil)
}

// editableFields are an existing channel's fields as its form shows them:
// the secret ones empty (their masked value is shown beside them).
func editableFields(masked domain.ChannelConfig) channelFields {
	f := channelFieldsOf(masked)
	f.SlackURL, f.RoutingKey, f.BotToken = "", "", ""
	return f
}

func (s *Server) uiUpdateChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	shown := postedChannelFields(r, editableFields(ch.ChannelConfig))
	shown.Type = string(ch.Type) // a channel's type does not change
	pos, err := s.deps.UpdateChannel.Handle(r.Context(), commands.UpdateChannel{Actor: v.actor(r), ChannelID: ch.ID,
		Change: func(cur domain.ChannelConfig) (domain.ChannelConfig, error) {
			// The stored secrets stay unless a new one was typed.
			f := postedChannelFields(r, editableFields(cur))
			f.Type = string(cur.Type)
			if f.SlackURL == "" {
				f.SlackURL = cur.SlackWebhookURL
			}
			if f.RoutingKey == "" {
				f.RoutingKey = cur.PagerDutyRoutingKey
			}
			if f.BotToken == "" {
				f.BotToken = cur.TelegramBotToken
			}
			return f.config(), nil
		}})
	if err != nil {
		errs, ok := formErrors(err)
		if !ok {
			return err
		}
		// Typed secrets are not sent back.
		shown.SlackURL, shown.RoutingKey, shown.BotToken = "", "", ""
		return s.renderChannelForm(w, r, v, statusOf(domain.ErrorCode(err)), ch.ID, shown, ch.ChannelConfig, errs)
	}
	s.settleUI(w, r, pos, "Channel saved.")
	return redirect(w, r, "/notifications/channels/"+strconv.FormatInt(ch.ID, 10))
}

// Deleting a channel or a rule, after a confirmation page.

type uiNotifyDeleteData struct {
	What    string // "channel" or "rule"
	Name    string
	Action  string
	Back    string
	Warning string
}

func (s *Server) uiDeleteChannelPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	page := "/notifications/channels/" + strconv.FormatInt(ch.ID, 10)
	d := uiNotifyDeleteData{What: "channel", Name: ch.Name, Action: page + "/delete", Back: page,
		Warning: "Rules stop sending to it, and its delivery log goes with it. This cannot be undone."}
	return s.render(w, r, http.StatusOK, "notification_delete", uiPage{Title: "Delete " + ch.Name, Nav: "notifications", Viewer: v, Data: d})
}

func (s *Server) uiDeleteChannel(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ch, err := s.pageChannel(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.DeleteChannel.Handle(r.Context(), commands.DeleteChannel{Actor: v.actor(r), ChannelID: ch.ID})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Deleted channel "+ch.Name+".")
	return redirect(w, r, "/notifications")
}

// The rule form.

// ruleFields are the rule form's values as typed.
type ruleFields struct {
	Name                   string
	Down, Up, Slow         bool
	SlowOperator, SlowMs   string
	ChannelIDs, MonitorIDs []int64
	AllMonitors            bool
	Consecutive, Renotify  string
	Enabled                bool
	ExtraConditions        []domain.Condition // kept from the API that the form has no place for
}

func ruleFieldsOf(c domain.RuleConfig) ruleFields {
	f := ruleFields{Name: c.Name, SlowOperator: "gt", ChannelIDs: slices.Clone(c.ChannelIDs), MonitorIDs: slices.Clone(c.MonitorIDs),
		AllMonitors: len(c.MonitorIDs) == 0, Consecutive: strconv.Itoa(c.ConsecutiveChecks), Renotify: strconv.Itoa(c.RenotifyMinutes), Enabled: c.Enabled}
	for _, cond := range c.Conditions {
		switch {
		case cond.Type == "STATUS" && cond.Value == "down" && !f.Down:
			f.Down = true
		case cond.Type == "STATUS" && cond.Value == "up" && !f.Up:
			f.Up = true
		case cond.Type == "RESPONSE_TIME" && !f.Slow:
			ms, _ := cond.Value.(float64)
			f.Slow, f.SlowOperator, f.SlowMs = true, cond.Operator, strconv.FormatFloat(ms, 'f', -1, 64)
		default:
			f.ExtraConditions = append(f.ExtraConditions, cond)
		}
	}
	return f
}

func postedRuleFields(r *http.Request, base ruleFields) ruleFields {
	f := base
	text := func(field string, into *string) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = strings.TrimSpace(vs[0])
		}
	}
	flag := func(field string, into *bool) {
		if vs, ok := r.PostForm[field]; ok && len(vs) > 0 {
			*into = vs[len(vs)-1] == "true"
		}
	}
	ids := func(field string, into *[]int64) {
		vs, ok := r.PostForm[field]
		if !ok {
			return
		}
		out := []int64{}
		for _, v := range vs {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				out = append(out, n)
			}
		}
		*into = out
	}
	text("name", &f.Name)
	flag("cond_down", &f.Down)
	flag("cond_up", &f.Up)
	flag("cond_slow", &f.Slow)
	text("slow_operator", &f.SlowOperator)
	text("slow_ms", &f.SlowMs)
	ids("channel_ids", &f.ChannelIDs)
	ids("monitor_ids", &f.MonitorIDs)
	if vs, ok := r.PostForm["monitor_scope"]; ok && len(vs) > 0 {
		f.AllMonitors = vs[0] != "some"
	}
	text("consecutive_checks", &f.Consecutive)
	text("renotify_minutes", &f.Renotify)
	flag("enabled", &f.Enabled)
	return f
}

// config is the rule the fields describe. Errors: ErrInvalid naming the
// fields that are not numbers, and "only these monitors" with none ticked
// (which the API would read as every monitor).
func (f ruleFields) config() (domain.RuleConfig, error) {
	var v domain.Validation
	c := domain.RuleConfig{Name: f.Name, ChannelIDs: slices.Clone(f.ChannelIDs), MonitorIDs: []int64{}, Enabled: f.Enabled, Conditions: []domain.Condition{}}
	if f.ChannelIDs == nil {
		c.ChannelIDs = []int64{}
	}
	if f.Down {
		c.Conditions = append(c.Conditions, domain.Condition{Type: "STATUS", Operator: "eq", Value: "down"})
	}
	if f.Up {
		c.Conditions = append(c.Conditions, domain.Condition{Type: "STATUS", Operator: "eq", Value: "up"})
	}
	if f.Slow {
		ms, err := strconv.ParseFloat(f.SlowMs, 64)
		if err != nil {
			v.Add("slow_ms", "float_parsing", "the response time threshold must be a number of milliseconds")
		}
		c.Conditions = append(c.Conditions, domain.Condition{Type: "RESPONSE_TIME", Operator: f.SlowOperator, Value: ms})
	}
	c.Conditions = append(c.Conditions, f.ExtraConditions...)
	if !f.AllMonitors {
		if len(f.MonitorIDs) == 0 {
			v.Add("monitor_ids", "value_error", "tick at least one monitor, or choose every monitor")
		}
		c.MonitorIDs = slices.Clone(f.MonitorIDs)
	}
	number := func(field, raw string, into *int) {
		if raw == "" {
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			v.Add(field, "int_parsing", "must be a whole number")
			return
		}
		*into = n
	}
	number("consecutive_checks", f.Consecutive, &c.ConsecutiveChecks)
	number("renotify_minutes", f.Renotify, &c.RenotifyMinutes)
	return c, v.Err()
}

type uiRuleFormData struct {
	ID                       int64
	Action                   string
	Heading                  string
	Submit                   string
	F                        ruleFields
	Channels                 []projections.ChannelView
	Monitors                 []projections.MonitorChoice
	Operators                []uiChoice
	MinRenotify, MaxRenotify int
}

func (s *Server) renderRuleForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, id int64, heading string, f ruleFields, errs map[string]string) error {
	ctx := r.Context()
	d := uiRuleFormData{ID: id, F: f, Operators: uiOperators, MinRenotify: domain.MinRenotifyMinutes, MaxRenotify: domain.MaxRenotifyMinutes}
	if id == 0 {
		d.Action, d.Heading, d.Submit = "/notifications/rules", "New notification rule", "Create rule"
	} else {
		d.Action, d.Heading, d.Submit = "/notifications/rules/"+strconv.FormatInt(id, 10), "Edit "+heading, "Save changes"
	}
	var err error
	if d.Channels, err = s.deps.Queries.Channels(ctx, v.AccountID, 0); err != nil {
		return err
	}
	if d.Monitors, err = s.deps.Queries.MonitorChoices(ctx, v.AccountID); err != nil {
		return err
	}
	if len(errs) > 0 && errs[""] == "" {
		errs[""] = "The rule was not saved: correct the fields marked below."
	}
	return s.render(w, r, status, "rule_form", uiPage{Title: d.Heading, Nav: "notifications", Viewer: v, Errors: errs, Data: d})
}

// pageRule is the path's rule, if it is the viewer's account's.
func (s *Server) pageRule(r *http.Request, v *viewer) (projections.RuleView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return projections.RuleView{}, err
	}
	list, err := s.deps.Queries.Rules(r.Context(), v.AccountID, id)
	if err != nil {
		return projections.RuleView{}, err
	}
	return list[0], nil
}

func (s *Server) uiNewRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	f := ruleFieldsOf(domain.RuleConfig{Enabled: true, ConsecutiveChecks: 1})
	f.Down = true
	return s.renderRuleForm(w, r, v, http.StatusOK, 0, "", f, nil)
}

func (s *Server) ruleRefused(w http.ResponseWriter, r *http.Request, v *viewer, id int64, heading string, f ruleFields, err error) error {
	errs, ok := formErrors(err)
	if !ok {
		return err
	}
	return s.renderRuleForm(w, r, v, statusOf(domain.ErrorCode(err)), id, heading, f, errs)
}

func (s *Server) uiCreateRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	// A form that sends no box for a condition or a channel has none ticked.
	f := postedRuleFields(r, ruleFields{SlowOperator: "gt", AllMonitors: true, Enabled: true, ChannelIDs: []int64{}})
	cfg, err := f.config()
	if err != nil {
		return s.ruleRefused(w, r, v, 0, "", f, err)
	}
	_, pos, err := s.deps.CreateRule.Handle(r.Context(), commands.CreateRule{Actor: v.actor(r), Config: cfg})
	if err != nil {
		return s.ruleRefused(w, r, v, 0, "", f, err)
	}
	s.settleUI(w, r, pos, "Rule created.")
	return redirect(w, r, "/notifications")
}

func (s *Server) uiEditRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	rule, err := s.pageRule(r, v)
	if err != nil {
		return err
	}
	return s.renderRuleForm(w, r, v, http.StatusOK, rule.ID, rule.Name, ruleFieldsOf(rule.RuleConfig), nil)
}

// uncheckedRule is what a form post says about boxes it has none ticked
// of: the form sends a hidden "false" beside each box, so a missing box is
// an unticked one only for conditions and channels posted as a whole.
func uncheckedRule(f ruleFields) ruleFields {
	f.Down, f.Up, f.Slow, f.Enabled = false, false, false, false
	f.ChannelIDs, f.MonitorIDs = []int64{}, []int64{}
	return f
}

func (s *Server) uiUpdateRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rule, err := s.pageRule(r, v)
	if err != nil {
		return err
	}
	shown := postedRuleFields(r, uncheckedRule(ruleFieldsOf(rule.RuleConfig)))
	pos, err := s.deps.UpdateRule.Handle(r.Context(), commands.UpdateRule{Actor: v.actor(r), RuleID: rule.ID,
		Change: func(cur domain.RuleConfig) (domain.RuleConfig, error) {
			return postedRuleFields(r, uncheckedRule(ruleFieldsOf(cur))).config()
		}})
	if err != nil {
		return s.ruleRefused(w, r, v, rule.ID, rule.Name, shown, err)
	}
	s.settleUI(w, r, pos, "Rule saved.")
	return redirect(w, r, "/notifications")
}

func (s *Server) uiDeleteRulePage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := needEditor(v, "notifications"); err != nil {
		return err
	}
	rule, err := s.pageRule(r, v)
	if err != nil {
		return err
	}
	d := uiNotifyDeleteData{What: "rule", Name: rule.Name, Action: "/notifications/rules/" + strconv.FormatInt(rule.ID, 10) + "/delete",
		Back: "/notifications", Warning: "Its channels stop hearing of the incidents it routed to them. This cannot be undone."}
	return s.render(w, r, http.StatusOK, "notification_delete", uiPage{Title: "Delete " + rule.Name, Nav: "notifications", Viewer: v, Data: d})
}

func (s *Server) uiDeleteRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rule, err := s.pageRule(r, v)
	if err != nil {
		return err
	}
	pos, err := s.deps.DeleteRule.Handle(r.Context(), commands.DeleteRule{Actor: v.actor(r), RuleID: rule.ID})
	if err != nil {
		return err
	}
	s.settleUI(w, r, pos, "Deleted rule "+rule.Name+".")
	return redirect(w, r, "/notifications")
}
