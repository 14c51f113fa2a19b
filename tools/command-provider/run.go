package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// redact replaces every secret value in s.
func redact(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "[secret]")
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
	pump := func(r io.Reader, buf *bytes.Buffer, stream string, enabled bool) {
		defer wg.Done()
		sc := bufio.NewScanner(io.TeeReader(r, buf))
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			if enabled && log != nil {
				log(stream, redact(sc.Text(), spec.secretValues))
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
		return res, fmt.Errorf("%s", redact(msg, spec.secretValues))
	}
	return res, nil
}
