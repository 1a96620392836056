// SPDX-License-Identifier: LGPL-2.1-or-later
// A SPDY/3.1 exec client built on spdystream, the library Kubernetes'
// clients and kubelet use (Debian's golang-github-docker-spdystream-dev),
// so that peapod-cri's SPDY is checked against an implementation that is
// not ours.
//
//	spdyclient URL STDIN-TEXT
//
// opens error, stdin, stdout and stderr streams, writes STDIN-TEXT and
// closes stdin, and prints "stdout=%q stderr=%q error=%q".
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/moby/spdystream"
)

func main() {
	u, err := url.Parse(os.Args[1])
	if err != nil {
		panic(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"+
		"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n", u.RequestURI(), u.Host)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		panic(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("X-Stream-Protocol-Version") != "v4.channel.k8s.io" {
		fmt.Printf("upgrade answered %d %v\n", resp.StatusCode, resp.Header)
		os.Exit(1)
	}
	if br.Buffered() > 0 {
		panic("bytes after the 101")
	}
	conn, err := spdystream.NewConnection(c, false)
	if err != nil {
		panic(err)
	}
	go conn.Serve(spdystream.NoOpStreamHandler)
	open := func(t string) *spdystream.Stream {
		s, err := conn.CreateStream(http.Header{"streamType": []string{t}}, nil, false)
		if err != nil {
			panic(err)
		}
		if err := s.WaitTimeout(10 * time.Second); err != nil {
			panic(err)
		}
		return s
	}
	errS, in, out, errOut := open("error"), open("stdin"), open("stdout"), open("stderr")
	var wg sync.WaitGroup
	var o, e, st []byte
	wg.Add(3)
	go func() { o, _ = io.ReadAll(out); wg.Done() }()
	go func() { e, _ = io.ReadAll(errOut); wg.Done() }()
	go func() { st, _ = io.ReadAll(errS); wg.Done() }()
	in.Write([]byte(os.Args[2]))
	in.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Printf("timeout: stdout=%q stderr=%q error=%q\n", o, e, st)
		os.Exit(1)
	}
	fmt.Printf("stdout=%q stderr=%q error=%q\n", o, e, st)
	conn.Close()
}
