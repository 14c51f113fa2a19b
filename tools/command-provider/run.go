package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
)

// stderrTailLines is how much of stderr a failure message carries.
const stderrTailLines = 20

// runResult is what a finished command produced, with trailing newlines trimmed as upstream does.
type runResult struct {
	Stdout, Stderr string
}

// lineLogger receives one line of command output; stream is "stdout" or "stderr".
type lineLogger func(stream, line string)

// redactedMarker replaces a secret value in logs and failure messages.
const redactedMarker = "[secret]"

// minRedactedFragment is the shortest line of a multi-line secret that is redacted on its own: output is streamed
// (and cut to a tail) line by line, so a multi-line value never appears whole there; shorter lines would blank
// common text and reveal little.
const minRedactedFragment = 4

// redactionNeedles returns what redact replaces: every non-empty secret value, the password of a value that is a
// PostgreSQL connection string (passwordForms), plus each line of a multi-line value with at least
// minRedactedFragment characters, longest first (so a value is never half-replaced by a shorter one).
func redactionNeedles(secrets []string) []string {
	seen := map[string]bool{}
	var needles []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			needles = append(needles, v)
		}
	}
	for _, v := range secrets {
		add(v)
	}
	// The password of a connection-string value alone, as written, decoded and percent-encoded: libpq prints parts
	// of a malformed URL, and a client may be given the password on its own (PGPASSWORD).
	for _, v := range secrets {
		for _, p := range passwordForms(v) {
			if len(p) >= minRedactedFragment {
				add(p)
			}
		}
	}
	for _, v := range secrets {
		if !strings.ContainsAny(v, "\r\n") {
			continue
		}
		for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if len(line) >= minRedactedFragment {
				add(line)
			}
		}
	}
	sort.SliceStable(needles, func(i, j int) bool { return len(needles[i]) > len(needles[j]) })
	return needles
}

// redact replaces every secret value in s, as a substring, and every line of a multi-line secret value (see
// redactionNeedles), so neither a whole output nor a single streamed line shows any of it.
func redact(s string, secrets []string) string {
	return replaceNeedles(s, redactionNeedles(secrets))
}

// replaceNeedles replaces each needle (as computed by redactionNeedles) in s.
func replaceNeedles(s string, needles []string) string {
	for _, v := range needles {
		s = strings.ReplaceAll(s, v, redactedMarker)
	}
	return s
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runCommand runs command through the spec's interpreter, in spec.Dir, with spec.Environment added to the
// provider's own environment, plus PULUMI_COMMAND_STDOUT/STDERR from the previous run when given.
// Each output line goes to log (redacted) as it arrives.
func runCommand(ctx context.Context, spec commandSpec, command string, prev *runResult, log lineLogger) (
	runResult, error,
) {
	args := append(append([]string{}, spec.Interpreter[1:]...), command)
	cmd := exec.CommandContext(ctx, spec.Interpreter[0], args...)
	if spec.Dir != "" {
		cmd.Dir = spec.Dir
	}
	cmd.Env = os.Environ()
	for k, v := range spec.Environment {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if prev != nil && spec.AddPreviousOutputInEnv {
		cmd.Env = append(cmd.Env, "PULUMI_COMMAND_STDOUT="+prev.Stdout, "PULUMI_COMMAND_STDERR="+prev.Stderr)
	}
	if spec.Stdin != "" {
		cmd.Stdin = strings.NewReader(spec.Stdin)
	}

	var stdout, stderr bytes.Buffer
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, errW
	var wg sync.WaitGroup
	needles := redactionNeedles(spec.secretValues)
	pump := func(r io.Reader, buf *bytes.Buffer, stream string, enabled bool) {
		defer wg.Done()
		sc := bufio.NewScanner(io.TeeReader(r, buf))
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			if enabled && log != nil {
				log(stream, replaceNeedles(sc.Text(), needles))
			}
		}
		// Drain whatever the scanner could not take (an overlong line) so the buffer stays complete.
		_, _ = io.Copy(io.Discard, io.TeeReader(r, buf))
	}
	wg.Add(2)
	go pump(outR, &stdout, "stdout", spec.Logging == logStdout || spec.Logging == logStdoutAndStderr)
	go pump(errR, &stderr, "stderr", spec.Logging == logStderr || spec.Logging == logStdoutAndStderr)

	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	_ = outW.Close()
	_ = errW.Close()
	wg.Wait()

	res := runResult{Stdout: strings.TrimRight(stdout.String(), "\n"), Stderr: strings.TrimRight(stderr.String(), "\n")}
	if err != nil {
		msg := fmt.Sprintf("command failed: %v", err)
		if t := tail(res.Stderr, stderrTailLines); t != "" {
			msg += "\nstderr (last lines):\n" + t
		}
		return res, fmt.Errorf("%s", replaceNeedles(msg, needles))
	}
	return res, nil
}
