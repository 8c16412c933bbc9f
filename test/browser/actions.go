package browser

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Actions a person takes on a page. They act as a person would: Click is a
// real mouse click on the element's centre (it fails on an element that is
// hidden or covered), Type focuses the field and types keys, and each waits
// for the page to settle afterwards.

// Navigate loads url in the page's tab and waits for it to settle.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("browser: navigate to %s: %v", url, err)
	}
	p.url = url
	p.waitQuiet()
}

// URL returns the page's current address.
func (p *Page) URL() string {
	p.t.Helper()
	u, _ := p.Eval(`location.href`).(string)
	return u
}

// Click clicks the first element matching the CSS selector.
func (p *Page) Click(selector string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("browser: click %q on %s: %v", selector, p.URL(), err)
	}
	p.waitAfterAction()
}

// ClickButton clicks the button (or link) whose visible words are text.
func (p *Page) ClickButton(text string) {
	p.t.Helper()
	sel := fmt.Sprintf(`//*[self::button or self::a or (self::input and (@type="submit" or @type="button"))][normalize-space(.)=%s or @value=%s]`, xpathString(text), xpathString(text))
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("browser: click the button %q on %s: %v", text, p.URL(), err)
	}
	p.waitAfterAction()
}

// Fill replaces the value of the field matching selector by typing value
// into it.
func (p *Page) Fill(selector, value string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	// Empty it first from script: chromedp's Clear fails on an empty
	// textarea (it has no text node to clear).
	// A page that is still settling (a redirect's target replacing the
	// document) can swap the node between the query and the typing:
	// chromedp then names a node that is gone. Find it again and retype.
	for attempt := 1; ; attempt++ {
		ok, _ := p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false; e.value = ""; return true })()`, jsString(selector))).(bool)
		if !ok {
			p.t.Fatalf("browser: fill %q: no element matches on %s", selector, p.URL())
		}
		err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(selector), value))
		if err == nil {
			return
		}
		if attempt == 3 || !strings.Contains(err.Error(), "Could not find node") {
			p.t.Fatalf("browser: fill %q on %s: %v", selector, p.URL(), err)
		}
		p.waitQuiet()
	}
}

// SetValue sets a field's value directly and fires its input and change
// events, for values typing cannot give (a select's option, a range).
func (p *Page) SetValue(selector, value string) {
	p.t.Helper()
	ok, _ := p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return false;
		e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`,
		jsString(selector), jsString(value))).(bool)
	if !ok {
		p.t.Fatalf("browser: SetValue(%q): no element matches on %s", selector, p.URL())
	}
	p.waitAfterAction()
}

// Check ticks or unticks a checkbox by clicking it when it is not yet as
// wanted.
func (p *Page) Check(selector string, on bool) {
	p.t.Helper()
	checked, ok := p.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.checked : null })()`, jsString(selector))).(bool)
	if !ok && p.Count(selector) == 0 {
		p.t.Fatalf("browser: Check(%q): no element matches on %s", selector, p.URL())
	}
	if checked != on {
		p.Click(selector)
	}
}

// WaitText waits until the first element matching selector shows text
// containing want, up to timeout, and reports whether it did. It polls the
// page without reloading it: what it sees arrived by itself.
func (p *Page) WaitText(selector, want string, timeout time.Duration) bool {
	p.t.Helper()
	return p.WaitTrue(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.innerText.includes(%s) })()`,
		jsString(selector), jsString(want)), timeout)
}

// WaitTrue waits until the JavaScript expression is true, up to timeout.
func (p *Page) WaitTrue(expr string, timeout time.Duration) bool {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := p.EvalErr(expr)
		if b, _ := v.(bool); err == nil && b {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// HorizontalOverflow returns how many CSS pixels the page is wider than
// its viewport (0 when nothing scrolls sideways).
func (p *Page) HorizontalOverflow() int {
	p.t.Helper()
	v, _ := p.Eval(`Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)`).(float64)
	return int(v)
}

// UnlabelledControls lists the form controls with no accessible label (no
// <label for>, wrapping <label>, aria-label or aria-labelledby), and the
// buttons and links with no words, as short descriptions.
func (p *Page) UnlabelledControls() []string {
	p.t.Helper()
	v := p.Eval(`(() => {
		const out = [];
		for (const e of document.querySelectorAll("input, select, textarea")) {
			if (e.type === "hidden" || e.closest("[hidden]")) continue;
			const labelled = (e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) || e.closest("label") ||
				e.getAttribute("aria-label") || e.getAttribute("aria-labelledby");
			if (!labelled) out.push(e.outerHTML.slice(0, 120));
		}
		for (const e of document.querySelectorAll("button, a[href]")) {
			if (e.closest("[hidden]")) continue;
			if (!(e.innerText || "").trim() && !e.getAttribute("aria-label")) out.push(e.outerHTML.slice(0, 120));
		}
		return out })()`)
	var out []string
	if list, ok := v.([]any); ok {
		for _, x := range list {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "concat(\"" + strings.ReplaceAll(s, `"`, `", '"', "`) + "\")"
}
