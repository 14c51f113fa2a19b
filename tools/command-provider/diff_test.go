package main

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func TestDiffNoChange(t *testing.T) {
	in := props(map[string]any{"create": "echo hi", "environment": map[string]any{"A": "1"}})
	d := computeDiff(in, in.Copy())
	if len(d.Changed) != 0 || d.toResponse().Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("expected no diff, got %v", d.Changed)
	}
}

func TestDiffCreateChangeIsUpdate(t *testing.T) {
	d := computeDiff(props(map[string]any{"create": "echo a"}), props(map[string]any{"create": "echo b"}))
	if !reflect.DeepEqual(d.Changed, []string{"create"}) || len(d.Replaces) != 0 {
		t.Fatalf("changed=%v replaces=%v", d.Changed, d.Replaces)
	}
	if d.kinds["create"] != pulumirpc.PropertyDiff_UPDATE {
		t.Fatalf("kind %v", d.kinds["create"])
	}
}

func TestDiffEnvironmentUpdateDeleteAdd(t *testing.T) {
	olds := props(map[string]any{"create": "x", "environment": map[string]any{"A": "1"}, "dir": "/tmp"})
	news := props(map[string]any{"create": "x", "environment": map[string]any{"A": "2"}, "update": "y"})
	d := computeDiff(olds, news)
	if !reflect.DeepEqual(d.Changed, []string{"dir", "environment", "update"}) || len(d.Replaces) != 0 {
		t.Fatalf("changed=%v replaces=%v", d.Changed, d.Replaces)
	}
	want := map[string]pulumirpc.PropertyDiff_Kind{
		"dir": pulumirpc.PropertyDiff_DELETE, "environment": pulumirpc.PropertyDiff_UPDATE,
		"update": pulumirpc.PropertyDiff_ADD,
	}
	if !reflect.DeepEqual(d.kinds, want) {
		t.Fatalf("kinds %v", d.kinds)
	}
}

func TestDiffTriggersReplace(t *testing.T) {
	olds := props(map[string]any{"create": "x", "triggers": []any{"a", 1.0}})
	news := props(map[string]any{"create": "x", "triggers": []any{"b", 1.0}})
	d := computeDiff(olds, news)
	if !reflect.DeepEqual(d.Replaces, []string{"triggers"}) {
		t.Fatalf("replaces=%v", d.Replaces)
	}
	if d.kinds["triggers"] != pulumirpc.PropertyDiff_UPDATE_REPLACE {
		t.Fatalf("kind %v", d.kinds["triggers"])
	}
	resp := d.toResponse()
	if resp.Changes != pulumirpc.DiffResponse_DIFF_SOME || !resp.HasDetailedDiff {
		t.Fatalf("response %v", resp)
	}
	// Adding triggers where there were none also replaces.
	d = computeDiff(props(map[string]any{"create": "x"}), news)
	if d.kinds["triggers"] != pulumirpc.PropertyDiff_ADD_REPLACE {
		t.Fatalf("kind %v", d.kinds["triggers"])
	}
}

func TestDiffSecretWrappingAloneIsNoChange(t *testing.T) {
	olds := props(map[string]any{"environment": map[string]any{"TOKEN": "s3cret"}})
	news := resource.PropertyMap{"environment": resource.NewProperty(resource.PropertyMap{
		"TOKEN": resource.MakeSecret(resource.NewProperty("s3cret")),
	})}
	if d := computeDiff(olds, news); len(d.Changed) != 0 {
		t.Fatalf("expected no diff, got %v", d.Changed)
	}
	news["environment"].ObjectValue()["TOKEN"] = resource.MakeSecret(resource.NewProperty("other"))
	if d := computeDiff(olds, news); !reflect.DeepEqual(d.Changed, []string{"environment"}) {
		t.Fatalf("expected environment diff, got %v", d.Changed)
	}
}

func TestDiffUnknownIsUpdate(t *testing.T) {
	olds := props(map[string]any{"create": "x", "triggers": []any{"a"}})
	news := resource.PropertyMap{
		"create":   resource.MakeComputed(resource.NewProperty("")),
		"triggers": resource.NewProperty([]resource.PropertyValue{resource.MakeComputed(resource.NewProperty(""))}),
	}
	d := computeDiff(olds, news)
	if !reflect.DeepEqual(d.Changed, []string{"create", "triggers"}) || !reflect.DeepEqual(d.Replaces, []string{"triggers"}) {
		t.Fatalf("changed=%v replaces=%v", d.Changed, d.Replaces)
	}
}

func TestDiffIgnoresOutputs(t *testing.T) {
	olds := props(map[string]any{"create": "x", "stdout": "old"})
	news := props(map[string]any{"create": "x"})
	if d := computeDiff(olds, news); len(d.Changed) != 0 {
		t.Fatalf("expected no diff, got %v", d.Changed)
	}
}

func TestParseSpecSecretsAndDefaults(t *testing.T) {
	in := resource.PropertyMap{
		"create": resource.NewProperty("echo $TOKEN"),
		"environment": resource.NewProperty(resource.PropertyMap{
			"TOKEN": resource.MakeSecret(resource.NewProperty("s3cret")),
			"PLAIN": resource.NewProperty("p"),
		}),
	}
	spec, err := parseSpec(in)
	if err != nil {
		t.Fatal(err)
	}
	if !spec.secretEnv || !reflect.DeepEqual(spec.secretValues, []string{"s3cret"}) {
		t.Fatalf("secretEnv=%v secretValues=%v", spec.secretEnv, spec.secretValues)
	}
	if !reflect.DeepEqual(spec.Interpreter, []string{"/bin/sh", "-c"}) || !spec.AddPreviousOutputInEnv ||
		spec.Logging != logStdoutAndStderr {
		t.Fatalf("defaults not applied: %+v", spec)
	}
	if _, err := parseSpec(props(map[string]any{"logging": "loud"})); err == nil {
		t.Fatal("expected an invalid logging mode to fail")
	}
}

func TestRunCommandRedactsAndFails(t *testing.T) {
	spec, err := parseSpec(resource.PropertyMap{
		"environment": resource.NewProperty(resource.PropertyMap{
			"TOKEN": resource.MakeSecret(resource.NewProperty("s3cret")),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	res, err := runCommand(context.Background(), spec, `echo "token=$TOKEN"; echo prev=$PULUMI_COMMAND_STDOUT`,
		&runResult{Stdout: "before"}, func(_, line string) { logged = append(logged, line) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Stdout != "token=s3cret\nprev=before" {
		t.Fatalf("stdout %q", res.Stdout)
	}
	if strings.Contains(strings.Join(logged, "\n"), "s3cret") {
		t.Fatalf("secret leaked into the log: %v", logged)
	}
	_, err = runCommand(context.Background(), spec, `echo "bad $TOKEN" >&2; exit 3`, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "bad [secret]") {
		t.Fatalf("unexpected error: %v", err)
	}
}
