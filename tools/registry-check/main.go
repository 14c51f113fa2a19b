// Command registry-check proves that this machine may push to an image repository without pushing anything: it
// starts a blob upload in the repository and cancels it. Authentication is go-containerregistry's, the flow every
// registry client uses: anonymous first, then the registry's WWW-Authenticate challenge and a bearer token from its
// realm, with the credentials of `docker login`/`skopeo login` ($DOCKER_CONFIG, ~/.docker/config.json,
// $REGISTRY_AUTH_FILE, containers/auth.json) and their credential helpers (docker-credential-gcloud, …).
//
//	registry-check push <registry>/<repository>
//
// Exit status: 0 the registry accepted the upload (and it was cancelled); 1 it refused or could not be reached (the
// reason on stderr); 2 usage. Loopback registries are spoken to over plain HTTP, any other over verified TLS; the
// standard proxy variables (HTTPS_PROXY, NO_PROXY) and SSL_CERT_FILE apply.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "push" {
		fmt.Fprintln(os.Stderr, "usage: registry-check push <registry>/<repository>")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := checkPush(ctx, os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "push refused: %s: %s\n", os.Args[2], describe(err))
		os.Exit(1)
	}
	fmt.Printf("push permitted: %s (an upload was started and cancelled)\n", os.Args[2])
}

// describe says why the registry refused in its own words (HTTP status and error codes), without Go's formatting of
// the error details.
func describe(err error) string {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err.Error()
	}
	parts := make([]string, 0, len(terr.Errors))
	for _, d := range terr.Errors {
		parts = append(parts, fmt.Sprintf("%s: %s", d.Code, d.Message))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d", terr.StatusCode)
	}
	return fmt.Sprintf("HTTP %d %s", terr.StatusCode, strings.Join(parts, "; "))
}

// checkPush asks for a push-scoped token, starts a blob upload and cancels it, waiting for the cancel.
func checkPush(ctx context.Context, repository string) error {
	repo, err := name.NewRepository(repository)
	if err != nil {
		return err
	}
	auth, err := authn.Resolve(ctx, authn.DefaultKeychain, repo)
	if err != nil {
		return fmt.Errorf("reading credentials: %w", err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, remote.DefaultTransport,
		[]string{repo.Scope(transport.PushScope)})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: tr}
	base := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr()}
	start := base.ResolveReference(&url.URL{Path: fmt.Sprintf("/v2/%s/blobs/uploads/", repo.RepositoryStr())})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, start.String(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusAccepted); err != nil {
		return err
	}
	loc, err := resp.Location()
	if err != nil {
		return errors.New("the registry accepted the upload without saying where it is (no Location)")
	}
	del, err := http.NewRequestWithContext(ctx, http.MethodDelete, loc.String(), nil)
	if err != nil {
		return err
	}
	if dresp, err := client.Do(del); err == nil {
		_, _ = io.Copy(io.Discard, dresp.Body)
		dresp.Body.Close()
	}
	return nil
}
