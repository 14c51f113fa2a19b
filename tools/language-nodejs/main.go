// Command pulumi-language-nodejs is a small Node.js language host for the Pulumi engine.
//
// The upstream host lives in its own Go module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// which the Go module proxy does not serve, so nova-rollout builds this one against sdk/v3 instead. It covers
// what the engine needs to run a compiled JavaScript/TypeScript program and a Node.js policy pack:
//
//   - Run: starts `node <@pulumi/pulumi/cmd/run> --monitor ... <entry point>` with the stack config in the
//     PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS environment variables, as the SDK expects.
//   - RunPlugin: starts policy packs (`@pulumi/pulumi/cmd/run-policy-pack`) and Node.js plugins.
//   - GetRequiredPackages: reports none; plugins are resolved on demand from PULUMI_HOME (offline).
//   - Handshake, GetPluginInfo, About, GetProgramDependencies, InstallDependencies (runs `npm install`).
//
// Not supported: synchronous invokes through file pipes (the SDK only uses them when --sync is passed),
// debugger attachment, the bun runtime, and code generation (GenerateProject/GenerateProgram/Pack).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped by the build (-X main.version=v3.274.1).
var version = "v0.0.0-dev"

const (
	runModule         = "@pulumi/pulumi/cmd/run"
	runPluginModule   = "@pulumi/pulumi/cmd/run-plugin"
	runPolicyModule   = "@pulumi/pulumi/cmd/run-policy-pack"
	bailExitCode      = 32 // the SDK already printed an actionable error
	runPathOverrideEV = "PULUMI_LANGUAGE_NODEJS_RUN_PATH"
)

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	flag.String("tracing", "", "ignored: tracing is not supported by this host")
	flag.String("runtime", "nodejs", "only nodejs is supported")
	flag.String("root", "", "ignored")
	// -logtostderr and -v come from the glog flags that the sdk's logging package registers.
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}

	logging.InitLogging(false, 0, false)

	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()

	if engineAddress != "" {
		// Exit when the engine goes away.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check: %w", err))
		}
	}

	host := newHost(engineAddress)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	// The engine reads the port from our first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC server stopped: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	cancelCtx     context.Context
	cancelFunc    context.CancelFunc
}

func newHost(engineAddress string) *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{engineAddress: engineAddress, cancelCtx: ctx, cancelFunc: cancel}
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelFunc()
	return &emptypb.Empty{}, nil
}

// GetRequiredPackages reports no packages: in this offline toolchain every plugin is installed ahead of time
// and the engine loads a provider when the program first registers one of its resources.
func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// nodeOptions are the runtime options of Pulumi.yaml (runtime.options) that this host honours.
type nodeOptions struct {
	typescript   bool
	tsconfigPath string
	nodeArgs     []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (nodeOptions, error) {
	opts := nodeOptions{typescript: true}
	if info == nil || info.GetOptions() == nil {
		return opts, nil
	}
	raw := info.GetOptions().AsMap()
	if v, ok := raw["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("runtime option typescript must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := raw["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option tsconfig must be a string")
		}
		opts.tsconfigPath = s
	}
	if v, ok := raw["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("runtime option nodeargs must be a string")
		}
		// Plain whitespace split: quoting inside nodeargs is not supported by this host.
		opts.nodeArgs = strings.Fields(s)
	}
	return opts, nil
}

func (o nodeOptions) env() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfigPath != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfigPath)
	}
	return env
}

// resolveModule resolves a module from the program directory, so the program's own @pulumi/pulumi copy is used:
// by Node's lookup rules in Go when it can (see lookupModule), else by asking node. Asking node costs a node start
// (measured 2026-11-26 on the bench stack: 60-110 ms of CPU and up to ~0.2 s of wall on a loaded machine) on every
// Run and RunPlugin, and the engine waits for it: in RunPlugin it comes before the policy proxy reports its port.
func resolveModule(ctx context.Context, node, module, dir string) (string, error) {
	if resolved, ok := lookupModule(module, dir); ok {
		return resolved, nil
	}
	return resolveModuleWithNode(ctx, node, module, dir)
}

// lookupModule is Node's require.resolve for a bare specifier "<package>/<subpath>" from dir, for the case this
// host needs: a package without an "exports" map, found in a node_modules directory of dir or one of its
// ancestors; the subpath is a file (as is, .js, .json, .node) or a directory (package.json "main", index.js).
// Anything else (an "exports" map, NODE_PATH, a relative or absolute request) reports false, and node decides.
func lookupModule(module, dir string) (string, bool) {
	if module == "" || strings.HasPrefix(module, ".") || filepath.IsAbs(module) || os.Getenv("NODE_PATH") != "" {
		return "", false
	}
	parts := strings.Split(module, "/")
	nameParts := 1
	if strings.HasPrefix(module, "@") {
		nameParts = 2
	}
	if len(parts) < nameParts {
		return "", false
	}
	pkgName := filepath.Join(parts[:nameParts]...)
	subpath := filepath.Join(parts[nameParts:]...)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for d := abs; ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			pkgDir := filepath.Join(d, "node_modules", pkgName)
			if st, err := os.Stat(pkgDir); err == nil && st.IsDir() {
				// Node stops at the first package directory found, whether or not the subpath exists.
				var manifest struct {
					Exports json.RawMessage `json:"exports"`
				}
				if b, err := os.ReadFile(filepath.Join(pkgDir, "package.json")); err == nil {
					if json.Unmarshal(b, &manifest) != nil || len(manifest.Exports) > 0 {
						return "", false
					}
				}
				target := filepath.Join(pkgDir, subpath)
				file, ok := lookupFileOrDir(target)
				if !ok {
					return "", false
				}
				real, err := filepath.EvalSymlinks(file)
				if err != nil {
					return "", false
				}
				return real, true
			}
		}
		if parent := filepath.Dir(d); parent == d {
			return "", false
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// lookupFileOrDir applies Node's LOAD_AS_FILE then LOAD_AS_DIRECTORY to target.
func lookupFileOrDir(target string) (string, bool) {
	for _, ext := range []string{"", ".js", ".json", ".node"} {
		if isFile(target + ext) {
			return target + ext, true
		}
	}
	if b, err := os.ReadFile(filepath.Join(target, "package.json")); err == nil {
		var manifest struct {
			Main string `json:"main"`
		}
		if json.Unmarshal(b, &manifest) != nil {
			return "", false
		}
		if manifest.Main != "" {
			main := filepath.Join(target, manifest.Main)
			for _, ext := range []string{"", ".js", ".json", ".node"} {
				if isFile(main + ext) {
					return main + ext, true
				}
			}
			for _, index := range []string{"index.js", "index.json", "index.node"} {
				if isFile(filepath.Join(main, index)) {
					return filepath.Join(main, index), true
				}
			}
		}
	}
	for _, index := range []string{"index.js", "index.json", "index.node"} {
		if isFile(filepath.Join(target, index)) {
			return filepath.Join(target, index), true
		}
	}
	return "", false
}

// resolveModuleWithNode asks node to resolve a module from dir (the fallback of resolveModule).
func resolveModuleWithNode(ctx context.Context, node, module, dir string) (string, error) {
	script := fmt.Sprintf(
		"try { console.log(require.resolve(%q)); } catch (e) { console.error(e.code === 'MODULE_NOT_FOUND' ? "+
			"'It looks like the Pulumi SDK has not been installed: run npm install in ' + process.cwd() : e.message); "+
			"process.exit(1); }", module)
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("resolving %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// runEnv is the program's environment: the caller's, less every PULUMI_NODEJS_* variable (the run's settings come
// from the engine's request alone, never from a value the caller left in the environment), plus the run's dry-run
// state stated explicitly. The SDK writes PULUMI_NODEJS_DRY_RUN only for a preview, so an inherited "true" would
// otherwise make a real update believe it is a preview.
func runEnv(inherited []string, dryRun bool) []string {
	env := make([]string, 0, len(inherited)+1)
	for _, kv := range inherited {
		if strings.HasPrefix(strings.ToUpper(kv), "PULUMI_NODEJS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PULUMI_NODEJS_DRY_RUN="+strconv.FormatBool(dryRun))
}

// configJSON renders the stack config the way the SDK reads it: keys as "<namespace>:config:<name>".
func configJSON(cfg map[string]string) (string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", err
		}
		out[key.Namespace()+":config:"+key.Name()] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the PATH: " + err.Error()}, nil
	}
	info := req.GetInfo()
	if info == nil {
		return &pulumirpc.RunResponse{Error: "RunRequest without program info"}, nil
	}
	opts, err := parseOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runPath := os.Getenv(runPathOverrideEV)
	if runPath == "" {
		runPath = runModule
	}
	if runPath, err = resolveModule(ctx, node, runPath, info.GetProgramDirectory()); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append([]string{}, opts.nodeArgs...)
	args = append(args, runPath)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engine())
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", info.GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	cfg, err := configJSON(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: "serializing config: " + err.Error()}, nil
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "serializing secret keys: " + err.Error()}, nil
	}

	env := runEnv(os.Environ(), req.GetDryRun())
	env = append(env, "PULUMI_CONFIG="+cfg, "PULUMI_CONFIG_SECRET_KEYS="+string(keysJSON))
	env = append(env, opts.env()...)

	cmdCtx, cancel := context.WithCancel(h.cancelCtx)
	defer cancel()
	context.AfterFunc(ctx, cancel)
	cmd := exec.CommandContext(cmdCtx, node, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	// Node may switch its stdio to non-blocking mode; wrapping the writers makes exec copy through pipes.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: "could not run node: " + err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin starts a Node.js plugin; policy packs (kind analyzer) go through run-policy-pack, with the stack
// configuration fetched through the SDK's policy proxy first (the engine sends it after the pack starts).
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the PATH: %w", err)
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	isPolicy := req.GetKind() == string(apitype.AnalyzerPlugin)
	module := runPluginModule
	if isPolicy {
		module = runPolicyModule
	} else if override := os.Getenv(runPathOverrideEV); override != "" {
		module = override
	}
	runPath, err := resolveModule(ctx, node, module, info.GetProgramDirectory())
	if err != nil {
		return err
	}

	args := append([]string{runPath}, opts.nodeArgs...)
	if isPolicy {
		args = append(args, req.GetArgs()...)
		args = append(args, info.GetProgramDirectory())
	} else {
		args = append(args, info.GetProgramDirectory())
		args = append(args, req.GetArgs()...)
	}
	env := append(append([]string{}, req.GetEnv()...), opts.env()...)

	var proxy *sdk.PolicyProxy
	if isPolicy {
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get stack configuration: %w", err)
		}
		if stack != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
			add("PULUMI_NODEJS_PROJECT", stack.GetProject())
			add("PULUMI_NODEJS_STACK", stack.GetStack())
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
			if stack.GetConfig() != nil {
				b, err := json.Marshal(stack.GetConfig())
				if err != nil {
					return err
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, node, args...)
	if isPolicy {
		cmd.Dir = info.GetProgramDirectory()
	} else {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start node: %w", err)
	}
	if proxy != nil {
		// The proxy waits for the process and forwards the engine's analyzer calls to it.
		return proxy.Attach(ctx, cmd)
	}
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("plugin exited with non-zero exit code: %d", exitErr.ExitCode())
		}
		return err
	}
	return closer.Close()
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return &pulumirpc.AboutResponse{Executable: node}, nil
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimSpace(string(out)),
		Metadata:   map[string]string{"packagemanager": "npm"},
	}, nil
}

// GetProgramDependencies lists the direct dependencies declared in the program's package.json with the
// versions installed in node_modules (falling back to the declared range).
func (h *host) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	var manifest struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return nil, fmt.Errorf("parsing package.json: %w", err)
	}
	names := make([]string, 0, len(manifest.Dependencies))
	for name := range manifest.Dependencies {
		names = append(names, name)
	}
	sort.Strings(names)
	deps := make([]*pulumirpc.DependencyInfo, 0, len(names))
	for _, name := range names {
		v := manifest.Dependencies[name]
		var installed struct {
			Version string `json:"version"`
		}
		if pb, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json")); err == nil &&
			json.Unmarshal(pb, &installed) == nil && installed.Version != "" {
			v = installed.Version
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: v})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// InstallDependencies runs `npm install` in the program directory, streaming its output to the engine.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("could not find npm on the PATH: %w", err)
	}
	cmd := exec.CommandContext(server.Context(), npm, "install")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install failed: %w", err)
	}
	return closer.Close()
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
