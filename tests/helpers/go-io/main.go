// go-io: file and socket I/O from a Go program, whose runtime preempts goroutines with SIGURG
// (installed with SA_RESTART): under supervision its output must be what it is natively.
// Usage: go-io DIR  — writes, reads back, renames and removes files in DIR from several
// goroutines, and echoes lines over a TCP connection on 127.0.0.1; prints a digest.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

func files(dir string, worker int, out chan<- string) {
	for i := 0; i < 50; i++ {
		name := filepath.Join(dir, fmt.Sprintf("w%d-%d.txt", worker, i))
		data := []byte(fmt.Sprintf("worker %d file %d\n", worker, i))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			out <- "write: " + err.Error()
			return
		}
		back, err := os.ReadFile(name)
		if err != nil || string(back) != string(data) {
			out <- fmt.Sprintf("read %s: %v", name, err)
			return
		}
		moved := name + ".old"
		if err := os.Rename(name, moved); err != nil {
			out <- "rename: " + err.Error()
			return
		}
		if err := os.Remove(moved); err != nil {
			out <- "remove: " + err.Error()
			return
		}
	}
	out <- fmt.Sprintf("worker %d: 50 files", worker)
}

func echo(out chan<- string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		out <- "listen: " + err.Error()
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewScanner(c)
		for r.Scan() {
			fmt.Fprintln(c, "echo "+r.Text())
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		out <- "dial: " + err.Error()
		return
	}
	defer c.Close()
	r := bufio.NewScanner(c)
	h := sha256.New()
	for i := 0; i < 200; i++ {
		fmt.Fprintf(c, "line %d\n", i)
		if !r.Scan() {
			out <- "echo: connection closed"
			return
		}
		h.Write([]byte(r.Text()))
	}
	out <- fmt.Sprintf("echo: 200 lines %x", h.Sum(nil)[:8])
}

// spin keeps a goroutine on the CPU for longer than the runtime's 10 ms time slice, so that
// sysmon preempts it with SIGURG in every run: learning sees the signal it must permit.
func spin(out chan<- string) {
	start := time.Now()
	n := 0
	for time.Since(start) < 80*time.Millisecond {
		n++
	}
	out <- "spin: done"
}

func main() {
	dir := os.Args[1]
	out := make(chan string, 16)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); files(dir, w, out) }(w)
	}
	wg.Add(1)
	go func() { defer wg.Done(); echo(out) }()
	wg.Add(1)
	go func() { defer wg.Done(); spin(out) }()
	wg.Wait()
	close(out)
	var lines []string
	for l := range out {
		lines = append(lines, l)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}
