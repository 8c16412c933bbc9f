package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/medialuna/medialuna/domain"
)

// smtpHostname is the name the SMTP check introduces itself with.
const smtpHostname = "medialuna.probe"

// maxReplyLines bounds a multi-line SMTP reply.
const maxReplyLines = 100

// maxLine bounds one line of an SMTP reply or SSH pre-banner text.
const maxLine = 4096

// checkSMTP reads the server's greeting, which must be 220, says EHLO, which
// must be answered 250, and says QUIT. Detail is the greeting's first line.
func (c *Checker) checkSMTP(a *attempt) domain.CheckOutcome {
	t, err := parseTarget(a.spec.URL, a.spec.Port, 25)
	if err != nil {
		return downf("%v", err)
	}
	conn, closeConn, err := c.dial(a, t)
	if err != nil {
		return a.down(err)
	}
	defer closeConn()
	r := bufio.NewReaderSize(conn, maxLine)

	greeting, err := readReply(r)
	if err != nil {
		return downf("SMTP banner: %s", a.describeReply(err))
	}
	out := domain.CheckOutcome{Detail: greeting.text}
	if greeting.code != 220 {
		out.Error = "SMTP banner: expected 220, got " + greeting.text
		return out
	}

	if _, err := io.WriteString(conn, "EHLO "+smtpHostname+"\r\n"); err != nil {
		out.Error = "SMTP EHLO: " + a.describe(err)
		return out
	}
	ehlo, err := readReply(r)
	if err != nil {
		out.Error = "SMTP EHLO: " + a.describeReply(err)
		return out
	}
	if ehlo.code != 250 {
		out.Error = "SMTP EHLO: expected 250, got " + ehlo.text
		return out
	}

	// Say goodbye politely; the check has passed whatever the answer.
	if _, err := io.WriteString(conn, "QUIT\r\n"); err == nil {
		_, _ = readReply(r)
	}
	out.Up = true
	return out
}

// reply is an SMTP reply: its code and its first line, code included.
type reply struct {
	code int
	text string
}

// errNotSMTP reports a line that is not an SMTP reply line.
type errNotSMTP struct{ line string }

func (e *errNotSMTP) Error() string {
	return fmt.Sprintf("not an SMTP server: got %q", e.line)
}

// readReply reads one SMTP reply, following "250-" continuation lines.
func readReply(r *bufio.Reader) (reply, error) {
	var first reply
	for i := 0; i < maxReplyLines; i++ {
		line, err := readLine(r)
		if err != nil {
			return reply{}, err
		}
		code, more, ok := parseReplyLine(line)
		if !ok {
			return reply{}, &errNotSMTP{line: domain.TruncateBytes(line, 80, "…")}
		}
		if i == 0 {
			first = reply{code: code, text: domain.TruncateBytes(line, maxDetail, "…")}
		}
		if !more {
			return first, nil
		}
	}
	return reply{}, fmt.Errorf("reply longer than %d lines", maxReplyLines)
}

// parseReplyLine splits "250-text" or "250 text" into its code and whether
// more lines follow.
func parseReplyLine(line string) (code int, more, ok bool) {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return 0, false, false
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || code < 200 || code > 599 {
		return 0, false, false
	}
	return code, len(line) > 3 && line[3] == '-', true
}

// readLine reads one line of at most maxLine bytes and drops its line ending.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("line longer than %d bytes", maxLine)
	case err != nil && len(line) == 0:
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// describeReply describes an error reading a reply: a connection closed
// before the reply is said as such.
func (a *attempt) describeReply(err error) string {
	var notSMTP *errNotSMTP
	if errors.As(err, &notSMTP) {
		return notSMTP.Error()
	}
	if errors.Is(err, io.EOF) {
		return "connection closed by server before replying"
	}
	return a.describe(err)
}
