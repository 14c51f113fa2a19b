package main

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Property names of command:local:Command (the same camelCase names the @pulumi/command 1.2.1 SDK sends).
const (
	pCreate      = "create"
	pUpdate      = "update"
	pDelete      = "delete"
	pDir         = "dir"
	pEnvironment = "environment"
	pInterpreter = "interpreter"
	pStdin       = "stdin"
	pTriggers    = "triggers"
	pAddPrevious = "addPreviousOutputInEnv"
	pLogging     = "logging"
	pStdout      = "stdout"
	pStderr      = "stderr"
	// Accepted and echoed back, but not implemented (no archive/asset collection).
	pAssetPaths   = "assetPaths"
	pArchivePaths = "archivePaths"
)

// inputKeys are the inputs that are echoed into the resource state and compared by Diff.
var inputKeys = []string{
	pCreate, pUpdate, pDelete, pDir, pEnvironment, pInterpreter, pStdin, pTriggers, pAddPrevious, pLogging,
	pAssetPaths, pArchivePaths,
}

// Logging modes of the `logging` input.
const (
	logStdout          = "stdout"
	logStderr          = "stderr"
	logStdoutAndStderr = "stdoutAndStderr"
	logNone            = "none"
)

// commandSpec is a fully known, plain view of the inputs, used to run a command.
type commandSpec struct {
	Create, Update, Delete string
	Dir                    string
	Environment            map[string]string
	Interpreter            []string
	Stdin                  string
	AddPreviousOutputInEnv bool
	Logging                string

	// Any secret input makes the process's stdout/stderr secret (see secretOutputs).
	secretEnv bool
	// Values that must never appear in the engine log.
	secretValues []string
}

// secretOutputs tells whether stdout/stderr must be stored as secrets: when any input that feeds the process (the
// environment, stdin or the command text itself) is secret, its output may echo it.
func (s commandSpec) secretOutputs() bool {
	return s.secretEnv || len(s.secretValues) > 0
}

// unwrap strips secret wrappers, reporting whether there was one.
func unwrap(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for {
		switch {
		case v.IsSecret():
			secret = true
			v = v.SecretValue().Element
		case v.IsOutput() && v.OutputValue().Known:
			secret = secret || v.OutputValue().Secret
			v = v.OutputValue().Element
		default:
			return v, secret
		}
	}
}

func stringProp(props resource.PropertyMap, key string) (string, bool, error) {
	v, ok := props[resource.PropertyKey(key)]
	if !ok || v.IsNull() {
		return "", false, nil
	}
	v, secret := unwrap(v)
	if v.IsNull() {
		return "", secret, nil
	}
	if !v.IsString() {
		return "", secret, fmt.Errorf("%s must be a string", key)
	}
	return v.StringValue(), secret, nil
}

// parseSpec reads the inputs of a command. All values must be known (callers skip unknowns in preview).
func parseSpec(props resource.PropertyMap) (commandSpec, error) {
	spec := commandSpec{
		Interpreter:            []string{"/bin/sh", "-c"},
		AddPreviousOutputInEnv: true,
		Logging:                logStdoutAndStderr,
		Environment:            map[string]string{},
	}
	var err error
	var secret bool
	addSecret := func(value string, isSecret bool) {
		if isSecret && value != "" {
			spec.secretValues = append(spec.secretValues, value)
		}
	}
	for key, dst := range map[string]*string{pCreate: &spec.Create, pUpdate: &spec.Update, pDelete: &spec.Delete,
		pDir: &spec.Dir, pStdin: &spec.Stdin} {
		if *dst, secret, err = stringProp(props, key); err != nil {
			return spec, err
		}
		addSecret(*dst, secret)
		if secret && key == pStdin {
			spec.secretEnv = true
		}
	}
	if v, ok := props[pEnvironment]; ok && !v.IsNull() {
		v, envSecret := unwrap(v)
		if !v.IsObject() {
			return spec, fmt.Errorf("%s must be a map of strings", pEnvironment)
		}
		spec.secretEnv = spec.secretEnv || envSecret
		for k, ev := range v.ObjectValue() {
			ev, s := unwrap(ev)
			if !ev.IsString() {
				return spec, fmt.Errorf("%s.%s must be a string", pEnvironment, k)
			}
			spec.Environment[string(k)] = ev.StringValue()
			if s || envSecret {
				spec.secretEnv = true
				addSecret(ev.StringValue(), true)
			}
		}
	}
	if v, ok := props[pInterpreter]; ok && !v.IsNull() {
		v, _ := unwrap(v)
		if !v.IsArray() {
			return spec, fmt.Errorf("%s must be a list of strings", pInterpreter)
		}
		interp := make([]string, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			e, _ := unwrap(e)
			if !e.IsString() {
				return spec, fmt.Errorf("%s must be a list of strings", pInterpreter)
			}
			interp = append(interp, e.StringValue())
		}
		if len(interp) > 0 {
			spec.Interpreter = interp
		}
	}
	if v, ok := props[pAddPrevious]; ok && !v.IsNull() {
		v, _ := unwrap(v)
		if !v.IsBool() {
			return spec, fmt.Errorf("%s must be a boolean", pAddPrevious)
		}
		spec.AddPreviousOutputInEnv = v.BoolValue()
	}
	if s, _, err := stringProp(props, pLogging); err != nil {
		return spec, err
	} else if s != "" {
		switch s {
		case logStdout, logStderr, logStdoutAndStderr, logNone:
			spec.Logging = s
		default:
			return spec, fmt.Errorf("%s must be one of stdout, stderr, stdoutAndStderr, none (got %q)", pLogging, s)
		}
	}
	sort.Strings(spec.secretValues)
	return spec, nil
}

// validate reports input problems that can be detected even while some values are still unknown.
func validate(props resource.PropertyMap) []string {
	var failures []string
	known := resource.PropertyMap{}
	for k, v := range props {
		if !v.ContainsUnknowns() {
			known[k] = v
		}
	}
	if _, err := parseSpec(known); err != nil {
		failures = append(failures, err.Error())
	}
	return failures
}
