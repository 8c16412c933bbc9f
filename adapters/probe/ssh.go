package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/medialuna/medialuna/domain"
)

// sshIdent is the identification string the SSH check sends, so servers see
// a well-formed client that simply goes away.
const sshIdent = "SSH-2.0-MediaLuna_Probe\r\n"

// maxPreBanner bounds the lines a server may send before its identification
// (RFC 4253 section 4.2 allows such lines).
const maxPreBanner = 20

// checkSSH reads the server's identification line, which must announce
// protocol 2.0 (or 1.99, compatible with 2.0). It does not authenticate.
// Detail is the identification line.
func (c *Checker) checkSSH(a *attempt) domain.CheckOutcome {
	t, err := parseTarget(a.spec.URL, a.spec.Port, 22)
	if err != nil {
		return downf("%v", err)
	}
	conn, closeConn, err := c.dial(a, t)
	if err != nil {
		return a.down(err)
	}
	defer closeConn()
	// Either side may send its identification first; sending ours at once
	// also gets a quick answer out of servers of other protocols.
	_, _ = io.WriteString(conn, sshIdent)

	r := bufio.NewReaderSize(conn, maxLine)
	var first string
	for i := 0; i < maxPreBanner; i++ {
		line, err := readLine(r)
		if err != nil {
			if first != "" {
				return notSSH(first)
			}
			if errors.Is(err, io.EOF) {
				return downf("SSH banner: connection closed by server before sending a banner")
			}
			return downf("SSH banner: %s", a.describe(err))
		}
		if i == 0 {
			first = line
		}
		if !strings.HasPrefix(line, "SSH-") {
			continue
		}
		line = domain.TruncateBytes(line, maxDetail, "…")
		if strings.HasPrefix(line, "SSH-2.0-") || strings.HasPrefix(line, "SSH-1.99-") {
			return domain.CheckOutcome{Up: true, Detail: line}
		}
		return domain.CheckOutcome{Detail: line, Error: fmt.Sprintf("unsupported SSH protocol version: %q", line)}
	}
	return notSSH(first)
}

func notSSH(first string) domain.CheckOutcome {
	return downf("not an SSH server: banner %q", domain.TruncateBytes(first, 80, "…"))
}
