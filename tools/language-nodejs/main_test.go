package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// lookupModule must agree with node's own require.resolve for the modules this host starts, from the repository and
// from a directory whose node_modules is a symlink (as the integration tests' and the bench's checkouts are).
func TestLookupModuleMatchesNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "node_modules", "@pulumi", "pulumi")); err != nil {
		t.Skip("node_modules not installed")
	}
	linked := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "node_modules"), filepath.Join(linked, "node_modules")); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(linked, "policy")
	if err := os.Mkdir(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{repo, linked, nested} {
		for _, module := range []string{runModule, runPolicyModule, runPluginModule} {
			want, err := resolveModuleWithNode(context.Background(), node, module, dir)
			if err != nil {
				t.Fatalf("node could not resolve %s from %s: %v", module, dir, err)
			}
			got, ok := lookupModule(module, dir)
			if !ok || got != want {
				t.Errorf("lookupModule(%q, %q) = %q, %v; node says %q", module, dir, got, ok, want)
			}
		}
	}
}

func TestLookupModuleDefersToNode(t *testing.T) {
	dir := t.TempDir()
	for _, module := range []string{"", "./local", "/abs/path", "@pulumi/pulumi/cmd/run"} {
		if got, ok := lookupModule(module, dir); ok {
			t.Errorf("lookupModule(%q) = %q, want a fallback to node", module, got)
		}
	}
	pkg := filepath.Join(dir, "node_modules", "with-exports")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "package.json"), []byte(`{"exports":{".":"./x.js"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "x.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := lookupModule("with-exports/x", dir); ok {
		t.Errorf("a package with an exports map must go to node, got %q", got)
	}
}

// The program's dry-run state comes from the engine's request alone: an inherited PULUMI_NODEJS_DRY_RUN (or any other
// PULUMI_NODEJS_* setting) never reaches the program, and the state is always stated.
func TestRunEnvStatesDryRunFromTheRequest(t *testing.T) {
	inherited := []string{"PATH=/bin", "PULUMI_NODEJS_DRY_RUN=true", "pulumi_nodejs_stack=other", "HOME=/root"}
	for _, dryRun := range []bool{false, true} {
		env := runEnv(inherited, dryRun)
		want := "PULUMI_NODEJS_DRY_RUN=false"
		if dryRun {
			want = "PULUMI_NODEJS_DRY_RUN=true"
		}
		var got []string
		for _, kv := range env {
			if len(kv) >= len("PULUMI_NODEJS_") && (kv[:len("PULUMI_NODEJS_")] == "PULUMI_NODEJS_" || kv[:len("pulumi_nodejs_")] == "pulumi_nodejs_") {
				got = append(got, kv)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("dryRun=%v: PULUMI_NODEJS_* in the program's environment = %v, want [%s]", dryRun, got, want)
		}
		if env[0] != "PATH=/bin" || env[1] != "HOME=/root" {
			t.Fatalf("other variables must pass through unchanged: %v", env)
		}
	}
}
