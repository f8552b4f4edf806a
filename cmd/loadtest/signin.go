package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// session is one signed-in person as the attack sends it: the Cookie
// header (the session and the CSRF cookie) and the CSRF token for forms.
type session struct {
	cookie string
	csrf   string
}

// header is the session's request header, with extra added.
func (s session) header(extra http.Header) http.Header {
	h := http.Header{"Cookie": {s.cookie}}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// signIn signs in at base as a person does: GET /login for the form's
// CSRF token (and its cookie), POST the credentials with it, expect a 303
// away from /login. Sign-ins are not measured: each costs the server a
// memory-hard password hash, which is not what the pages are measured for.
func signIn(ctx context.Context, base, user, password string) (session, error) {
	jar, _ := cookiejar.New(nil) // never fails without options
	client := &http.Client{
		Jar:           jar,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	page, _, err := get(ctx, client, base+"/login")
	if err != nil {
		return session{}, fmt.Errorf("sign in: %w", err)
	}
	tok := scrapeCSRF(page)
	if tok == "" {
		return session{}, errors.New("sign in: no CSRF token in the sign-in form")
	}
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {tok}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return session{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return session{}, fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(loc, "/login") {
		return session{}, fmt.Errorf("sign in as %s: %s to %q, want a 303 away from the sign-in form (wrong password?)", user, resp.Status, loc)
	}
	u, _ := url.Parse(base) // parsed by get already
	var cookies []string
	s := session{}
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
		if c.Name == "_csrf" {
			s.csrf = c.Value // Echo's CSRF check compares the field with this cookie
		}
	}
	s.cookie = strings.Join(cookies, "; ")
	return s, nil
}

// get is a GET whose body must come with a 200.
func get(ctx context.Context, client *http.Client, target string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return b, resp.Header, err
}

const signInUsage = `Usage: loadtest signin -base URL -user NAME [-password P]

Signs in through the form and prints the session's Cookie header, for
tools that cannot sign in themselves (wrk):

  wrk -t2 -c8 -d20s -H "$(go run ./cmd/loadtest signin -user amir -password imagedash-demo)" \
      -H 'HX-Request: true' 'http://127.0.0.1:8080/?status=READY'

The password may come from $LOADTEST_PASSWORD.

Flags:
`

// runSignIn is loadtest signin.
func runSignIn(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(args[0], signInUsage, stderr)
	var who account
	who.bind(fs, "amir")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := who.check(getenv, true); err != nil {
		return err
	}
	s, err := signIn(ctx, who.base, who.user, who.password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Cookie: %s\n", s.cookie)
	return nil
}

// account is who signs in, and where.
type account struct {
	base, user, password string
}

func (a *account) bind(fs *flag.FlagSet, user string) {
	fs.StringVar(&a.base, "base", "http://127.0.0.1:8080", "the dashboard's root URL (loopback)")
	fs.StringVar(&a.user, "user", user, "account to sign in as (a copier, for the copies)")
	fs.StringVar(&a.password, "password", "", "its password (or $LOADTEST_PASSWORD)")
}

// check fills the password from the environment; required says whether
// signing in is needed at all.
func (a *account) check(getenv func(string) string, required bool) error {
	a.base = strings.TrimRight(a.base, "/")
	if err := checkLoopback(a.base); err != nil {
		return err
	}
	if a.password == "" {
		a.password = getenv("LOADTEST_PASSWORD")
	}
	if required && (a.user == "" || a.password == "") {
		return errors.New("give the account: -user and -password (or $LOADTEST_PASSWORD)")
	}
	return nil
}

// defaultBase sets a.base to raw's server (scheme and host) unless -base
// was given: a page's URL says where to sign in.
func (a *account) defaultBase(fs *flag.FlagSet, raw string) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "base" })
	if u, err := url.Parse(raw); err == nil && !given && u.Host != "" {
		a.base = u.Scheme + "://" + u.Host
	}
}

// newFlagSet is a flag set that prints usage then the flags.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loadtest "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args[1:] and refuses stray arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}
