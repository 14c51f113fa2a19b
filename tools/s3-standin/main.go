// Command s3-standin serves an S3-compatible object store on a local port (in memory), so the shared-backend
// scenario can run a Pulumi DIY backend on `s3://` without a cloud account: the same locking and history as a
// team's bucket. Buckets are created with a plain `PUT /<bucket>`.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:39000", "host:port to serve on")
	flag.Parse()
	store := gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(false))
	server := &http.Server{Addr: *listen, Handler: store.Server(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("s3-standin listening on http://%s", *listen)
	log.Fatal(server.ListenAndServe())
}
