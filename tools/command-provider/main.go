// Command pulumi-resource-command is nova-rollout's own implementation of the `command` resource provider,
// limited to command:local:Command and wire-compatible with the npm @pulumi/command 1.2.1 SDK.
//
// The upstream provider (github.com/pulumi/pulumi-command/provider) is not served by the Go module proxy that
// this project's machines can reach, so it cannot be built offline. This one follows the upstream semantics:
// create runs on create, update (or create when update is unset) on update, delete on delete; a change to
// `triggers` replaces the resource, a change to any other input is an update; nothing runs during preview;
// a non-zero exit fails the step with the tail of stderr; PULUMI_COMMAND_STDOUT/STDERR carry the previous
// output into update and delete; secret inputs stay secret and make stdout/stderr secret.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped by the build (-X main.version=1.2.1).
var version = "1.2.1"

const (
	providerName = "command"
	commandToken = "command:local:Command"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(version)
		return
	}
	if err := provider.Main(providerName, func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &commandProvider{host: host}, nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer
	host *provider.HostClient
}

var marshalOpts = plugin.MarshalOptions{
	KeepUnknowns: true, KeepSecrets: true, KeepOutputValues: true, SkipNulls: true,
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON()}, nil
}

func (p *commandProvider) CheckConfig(
	_ context.Context, req *pulumirpc.CheckRequest,
) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(
	context.Context, *pulumirpc.ConfigureRequest,
) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptOutputs: true}, nil
}

func checkType(t string) error {
	if t != commandToken {
		return fmt.Errorf("unknown resource type %q: this provider implements only %s", t, commandToken)
	}
	return nil
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshalOpts)
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, f := range validate(news) {
		failures = append(failures, &pulumirpc.CheckFailure{Reason: f})
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	oldStruct := req.GetOldInputs()
	if oldStruct == nil || len(oldStruct.GetFields()) == 0 {
		oldStruct = req.GetOlds() // older engines: the state holds the inputs too
	}
	olds, err := plugin.UnmarshalProperties(oldStruct, marshalOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshalOpts)
	if err != nil {
		return nil, err
	}
	return computeDiff(olds, news).toResponse(), nil
}

// newID makes an ID like upstream's: unique, not derived from the command text.
func newID(urn string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return resource.URN(urn).Name() + "-" + hex.EncodeToString(b)
}

// outputs echoes the inputs and adds stdout/stderr (secret when an input that feeds the process is secret;
// unknown during preview).
func outputs(inputs resource.PropertyMap, res *runResult, secret bool) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, k := range inputKeys {
		if v, ok := inputs[resource.PropertyKey(k)]; ok {
			out[resource.PropertyKey(k)] = v
		}
	}
	wrap := func(s string) resource.PropertyValue {
		v := resource.NewProperty(s)
		if secret {
			v = resource.MakeSecret(v)
		}
		return v
	}
	if res == nil {
		out[pStdout] = resource.MakeComputed(resource.NewProperty(""))
		out[pStderr] = resource.MakeComputed(resource.NewProperty(""))
	} else {
		out[pStdout] = wrap(res.Stdout)
		out[pStderr] = wrap(res.Stderr)
	}
	return out
}

// logger streams command output to the engine log at info, tagged with the resource URN.
func (p *commandProvider) logger(ctx context.Context, urn string) lineLogger {
	// Both streams are logged at info, as upstream does: output on stderr is not an error by itself.
	return func(_, line string) {
		_ = p.host.Log(ctx, diag.Info, resource.URN(urn), line)
	}
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), marshalOpts)
	if err != nil {
		return nil, err
	}
	id := newID(req.GetUrn())
	if req.GetPreview() || inputs.ContainsUnknowns() {
		props, err := plugin.MarshalProperties(outputs(inputs, nil, false), marshalOpts)
		return &pulumirpc.CreateResponse{Id: "", Properties: props}, err
	}
	spec, err := parseSpec(inputs)
	if err != nil {
		return nil, err
	}
	var res *runResult
	if spec.Create != "" {
		r, runErr := runCommand(ctx, spec, spec.Create, nil, p.logger(ctx, req.GetUrn()))
		if runErr != nil {
			return nil, fmt.Errorf("%s: create: %w", resource.URN(req.GetUrn()).Name(), runErr)
		}
		res = &r
	} else {
		res = &runResult{}
	}
	props, err := plugin.MarshalProperties(outputs(inputs, res, spec.secretOutputs()), marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	// A command has no external state to refresh: the recorded state is the truth.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// previousOutput reads stdout/stderr from a prior state, for PULUMI_COMMAND_STDOUT/STDERR.
func previousOutput(state resource.PropertyMap) *runResult {
	out, _, _ := stringProp(state, pStdout)
	errOut, _, _ := stringProp(state, pStderr)
	return &runResult{Stdout: out, Stderr: errOut}
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), marshalOpts)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), marshalOpts)
	if err != nil {
		return nil, err
	}
	if req.GetPreview() || news.ContainsUnknowns() {
		props, err := plugin.MarshalProperties(outputs(news, nil, false), marshalOpts)
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	spec, err := parseSpec(news)
	if err != nil {
		return nil, err
	}
	command := spec.Update
	if command == "" {
		command = spec.Create
	}
	res := previousOutput(olds)
	if command != "" {
		r, runErr := runCommand(ctx, spec, command, res, p.logger(ctx, req.GetUrn()))
		if runErr != nil {
			return nil, fmt.Errorf("%s: update: %w", resource.URN(req.GetUrn()).Name(), runErr)
		}
		res = &r
	}
	props, err := plugin.MarshalProperties(outputs(news, res, spec.secretOutputs()), marshalOpts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	state, err := plugin.UnmarshalProperties(req.GetProperties(), marshalOpts)
	if err != nil {
		return nil, err
	}
	spec, err := parseSpec(state)
	if err != nil {
		return nil, err
	}
	if spec.Delete == "" {
		return &emptypb.Empty{}, nil
	}
	if _, err := runCommand(ctx, spec, spec.Delete, previousOutput(state), p.logger(ctx, req.GetUrn())); err != nil {
		return nil, fmt.Errorf("%s: delete: %w", resource.URN(req.GetUrn()).Name(), err)
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// schemaJSON is a minimal package schema: enough for `pulumi package get-schema` and tooling that lists the
// resource, not for SDK generation.
func schemaJSON() string {
	str := map[string]any{"type": "string"}
	props := map[string]any{
		pCreate: str, pUpdate: str, pDelete: str, pDir: str, pStdin: str,
		pEnvironment: map[string]any{"type": "object", "additionalProperties": str},
		pInterpreter: map[string]any{"type": "array", "items": str},
		pTriggers:    map[string]any{"type": "array", "items": map[string]any{"$ref": "pulumi.json#/Any"}},
		pAddPrevious: map[string]any{"type": "boolean"},
		pLogging:     map[string]any{"$ref": "#/types/command:local:Logging"},
	}
	outputsProps := map[string]any{pStdout: str, pStderr: str}
	for k, v := range props {
		outputsProps[k] = v
	}
	schema := map[string]any{
		"name":    providerName,
		"version": version,
		"types": map[string]any{
			"command:local:Logging": map[string]any{
				"type": "string",
				"enum": []any{
					map[string]any{"value": logStdout}, map[string]any{"value": logStderr},
					map[string]any{"value": logStdoutAndStderr}, map[string]any{"value": logNone},
				},
			},
		},
		"resources": map[string]any{
			commandToken: map[string]any{
				"description":      "A local command to be executed.",
				"inputProperties":  props,
				"properties":       outputsProps,
				"required":         []string{pStdout, pStderr},
				"replaceOnChanges": []string{pTriggers + "[*]"},
			},
		},
	}
	b, _ := json.Marshal(schema)
	return string(b)
}
