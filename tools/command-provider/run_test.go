package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

const pemSecret = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nq1w2e3r4t5y6\nab\n-----END KEY-----"

func TestRedact(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{"substring", "url=postgres://u:pw@h/db;", []string{"postgres://u:pw@h/db"}, "url=[secret];"},
		{"every occurrence", "k k k", []string{"k"}, "[secret] [secret] [secret]"},
		{"empty secret ignored", "text", []string{""}, "text"},
		{"longest first", "abcdef", []string{"abc", "abcdef"}, "[secret]"},
		{"whole multi-line value", "x" + pemSecret + "y", []string{pemSecret}, "x[secret]y"},
		{"one line of a multi-line value", "got MIIEvQIBADANBgkqhkiG9w0BAQEFAASC here", []string{pemSecret},
			"got [secret] here"},
		{"CRLF value", "line two\r", []string{"line one\r\nline two"}, "[secret]\r"},
		{"short lines are kept", "ab", []string{pemSecret}, "ab"},
		{"a URL's password alone", "auth failed for p@ss w/rd!", []string{"postgres://u:p%40ss%20w%2Frd!@h/db"},
			"auth failed for [secret]"},
		{"a URL's password percent-encoded", `invalid URI "p%40ss%20w%2Frd!"`,
			[]string{"postgres://u:p%40ss%20w%2Frd!@h/db"}, `invalid URI "[secret]"`},
		{"a password query parameter", "pw=hunter22", []string{"postgresql://h/db?sslmode=require&password=hunter22"},
			"pw=[secret]"},
		{"a keyword/value password", "it's s3cr et", []string{`host=h password='s3cr et' dbname=d`}, "it's [secret]"},
		{"a short password is kept alone", "pw here", []string{"postgres://u:pw@h/db"}, "pw here"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact(c.text, c.secrets); got != c.want {
				t.Fatalf("redact(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

// A command that prints a multi-line secret (and fails) never shows any line of it in the streamed log or the error.
func TestRunCommandRedactsMultiLineSecrets(t *testing.T) {
	spec, err := parseSpec(resource.PropertyMap{
		"environment": resource.MakeSecret(resource.NewProperty(resource.PropertyMap{
			"KEY": resource.NewProperty(pemSecret),
		})),
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logged []string
	log := func(_, line string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, line)
	}
	_, runErr := runCommand(context.Background(), spec, `printf '%s\n' "$KEY"; printf 'tail %s\n' "$KEY" >&2; exit 3`,
		nil, log)
	if runErr == nil {
		t.Fatal("expected the command to fail")
	}
	all := strings.Join(logged, "\n") + "\n" + runErr.Error()
	for _, line := range strings.Split(pemSecret, "\n") {
		if len(line) >= minRedactedFragment && strings.Contains(all, line) {
			t.Fatalf("output shows %q:\n%s", line, all)
		}
	}
	if !strings.Contains(all, redactedMarker) {
		t.Fatalf("nothing was redacted:\n%s", all)
	}
	if !spec.secretOutputs() {
		t.Fatal("a secret environment must make stdout/stderr secret")
	}
}
