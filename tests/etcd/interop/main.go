// etcd_elect: electors on etcd's own go.etcd.io/etcd/client/v3/concurrency Election, for
// tenure's interop test and for the benchmark that measures etcd's election beside tenure's.
//
//	etcd_elect candidate -endpoints E -election PFX -name N [-ttl S] [-hold MS] [-rounds R]
//	                     [-log LOGPFX] [-write-every MS]
//	    R rounds of: campaign; while leading, every write-every ms write a record under LOGPFX in a
//	    txn guarded by our own key's create revision; resign after hold ms (hold 0: lead until
//	    killed). Prints "elected REV" and "resigned REV" lines.
//	etcd_elect bench -endpoints E -prefix PFX [-ttl S] [-acquire N] [-handover N] [-crash N]
//	    Acquire, graceful handover and crash failover of concurrency.Election, measured like
//	    bench/etcd_bench.cpp (see docs/etcd.md).
//	etcd_elect hold -endpoints E -election PFX -name N [-ttl S]
//	    Campaign, print "elected REV", then lead until killed (the crash benchmark's victim).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "etcd_elect: "+format+"\n", args...)
	os.Exit(1)
}

func client(endpoints string) *clientv3.Client {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(endpoints, ","),
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		die("connect %s: %v", endpoints, err)
	}
	return cli
}

func say(format string, args ...any) {
	fmt.Printf(format+"\n", args...)
	os.Stdout.Sync()
}

func main() {
	if len(os.Args) < 2 {
		die("usage: etcd_elect candidate|bench|hold [flags]")
	}
	switch os.Args[1] {
	case "candidate":
		candidate(os.Args[2:])
	case "bench":
		bench(os.Args[2:])
	case "hold":
		hold(os.Args[2:])
	default:
		die("unknown command %q (candidate, bench, hold)", os.Args[1])
	}
}

func candidate(args []string) {
	fs := flag.NewFlagSet("candidate", flag.ExitOnError)
	endpoints := fs.String("endpoints", "", "comma-separated host:port list")
	election := fs.String("election", "", "election prefix given to concurrency.NewElection")
	name := fs.String("name", "", "the candidate's value (its identity)")
	ttl := fs.Int("ttl", 2, "session TTL in seconds")
	holdMs := fs.Int("hold", 500, "lead this long, then resign (0: until killed)")
	rounds := fs.Int("rounds", 1, "campaigns in a row")
	logPfx := fs.String("log", "", "write fencing-checked records under this prefix while leading")
	every := fs.Int("write-every", 10, "milliseconds between records")
	fs.Parse(args)
	if *endpoints == "" || *election == "" || *name == "" {
		die("candidate needs -endpoints, -election and -name")
	}
	cli := client(*endpoints)
	defer cli.Close()
	for r := 0; r < *rounds; r++ {
		s, e := lead(cli, *election, *name, *ttl)
		end := time.Now().Add(time.Duration(*holdMs) * time.Millisecond)
		for seq := 0; *holdMs == 0 || time.Now().Before(end); seq++ {
			if *logPfx != "" {
				writeRecord(cli, e, *logPfx, *name, seq)
			}
			select {
			case <-s.Done():
				say("lost %d", e.Rev())
				goto next
			case <-time.After(time.Duration(*every) * time.Millisecond):
			}
		}
		if err := e.Resign(context.Background()); err != nil {
			die("resign: %v", err)
		}
		say("resigned %d", e.Rev())
	next:
		s.Close()
		time.Sleep(20 * time.Millisecond) // let another candidate in before campaigning again
	}
}

// lead opens a session with the TTL, campaigns as name in election until it wins, and says
// "elected REV" on stdout.
func lead(cli *clientv3.Client, election, name string, ttl int) (*concurrency.Session, *concurrency.Election) {
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(ttl))
	if err != nil {
		die("session: %v", err)
	}
	e := concurrency.NewElection(s, election)
	if err := e.Campaign(context.Background(), name); err != nil {
		die("campaign: %v", err)
	}
	say("elected %d", e.Rev())
	return s, e
}

// A record is accepted only while our candidate key still exists with the create revision we
// were elected with: the fencing check every leader of the interop test applies.
func writeRecord(cli *clientv3.Client, e *concurrency.Election, logPfx, name string, seq int) {
	key := fmt.Sprintf("%s%020d/%s/%06d", logPfx, e.Rev(), name, seq)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.Key()), "=", e.Rev())).
		Then(clientv3.OpPut(key, fmt.Sprintf("%d %s", e.Rev(), name))).
		Commit()
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd_elect: record: %v\n", err)
	}
}

func hold(args []string) {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	endpoints := fs.String("endpoints", "", "comma-separated host:port list")
	election := fs.String("election", "", "election prefix")
	name := fs.String("name", "victim", "value")
	ttl := fs.Int("ttl", 2, "session TTL in seconds")
	fs.Parse(args)
	cli := client(*endpoints)
	lead(cli, *election, *name, *ttl)
	select {}
}

// ---- bench -------------------------------------------------------------------------------

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	i := int(p/100*float64(len(s)-1) + 0.5)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func bench(args []string) {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	endpoints := fs.String("endpoints", "", "comma-separated host:port list")
	prefix := fs.String("prefix", "/tenure-bench-go", "key prefix of the elections")
	ttl := fs.Int("ttl", 2, "session TTL in seconds (crash failover)")
	nAcq := fs.Int("acquire", 500, "acquire samples")
	nHand := fs.Int("handover", 100, "handover samples")
	nCrash := fs.Int("crash", 5, "crash samples")
	// etcd delivers events to a watcher that starts at a past revision (waitDelete watches from
	// the range's revision) from its 100 ms sync loop until the watcher has caught up: a resign
	// right after the successor's campaign waits for that loop. settle lets it catch up first.
	settle := fs.Duration("settle", 200*time.Millisecond, "pause between the successor's campaign and the resign/kill")
	fs.Parse(args)
	cli := client(*endpoints)
	defer cli.Close()
	ctx := context.Background()
	run := fmt.Sprintf("%s/%d-%d", *prefix, os.Getpid(), time.Now().UnixNano()%1e9)

	// acquire: Campaign on an uncontended election with an existing session (one txn and one
	// range of older keys), then Resign; as tenure's acquire it excludes the lease grant.
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		die("session: %v", err)
	}
	var acq []float64
	for i := 0; i < *nAcq; i++ {
		e := concurrency.NewElection(s, fmt.Sprintf("%s/acq-%d", run, i))
		t0 := time.Now()
		if err := e.Campaign(ctx, "bench"); err != nil {
			die("campaign: %v", err)
		}
		acq = append(acq, ms(time.Since(t0)))
		e.Resign(ctx)
	}
	s.Close()
	fmt.Printf("go concurrency.Election acquire (campaign, uncontended): p50 %.2f ms  p99 %.2f ms  (n=%d)\n",
		pct(acq, 50), pct(acq, 99), len(acq))

	// handover: A leads, B campaigns (waits on A's key); A resigns; time until B's Campaign
	// returns.
	var hand []float64
	sa, _ := concurrency.NewSession(cli, concurrency.WithTTL(10))
	sb, _ := concurrency.NewSession(cli, concurrency.WithTTL(10))
	for i := 0; i < *nHand; i++ {
		pfx := fmt.Sprintf("%s/hand-%d", run, i)
		a := concurrency.NewElection(sa, pfx)
		b := concurrency.NewElection(sb, pfx)
		if err := a.Campaign(ctx, "a"); err != nil {
			die("campaign: %v", err)
		}
		won := campaignBehind(ctx, cli, b, pfx, *settle)
		t0 := time.Now()
		a.Resign(ctx)
		hand = append(hand, ms((<-won).Sub(t0)))
		b.Resign(ctx)
	}
	sa.Close()
	sb.Close()
	fmt.Printf("go concurrency.Election graceful handover (resign -> successor's Campaign returns, settle %v): p50 %.2f ms  p99 %.2f ms  (n=%d)\n",
		*settle, pct(hand, 50), pct(hand, 99), len(hand))

	// crash: a child process leads; B campaigns; SIGKILL of the child; time until B leads.
	var crash []float64
	self, _ := os.Executable()
	for i := 0; i < *nCrash; i++ {
		pfx := fmt.Sprintf("%s/crash-%d", run, i)
		child := exec.Command(self, "hold", "-endpoints", *endpoints, "-election", pfx,
			"-ttl", fmt.Sprint(*ttl))
		out, _ := child.StdoutPipe()
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			die("start child: %v", err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if !strings.HasPrefix(line, "elected") {
			die("child did not lead: %q", line)
		}
		sb, _ := concurrency.NewSession(cli, concurrency.WithTTL(*ttl))
		b := concurrency.NewElection(sb, pfx)
		won := campaignBehind(ctx, cli, b, pfx, *settle)
		t0 := time.Now()
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		crash = append(crash, ms((<-won).Sub(t0)))
		b.Resign(ctx)
		sb.Close()
	}
	fmt.Printf("go concurrency.Election crash failover (SIGKILL -> successor leads, TTL %d s): p50 %.0f ms  max %.0f ms  (n=%d)\n",
		*ttl, pct(crash, 50), pct(crash, 100), len(crash))
}

// campaignBehind starts b's Campaign as "b" behind the current leader of pfx, waits until its key
// is there and settle has passed, and returns when b wins on the channel.
func campaignBehind(ctx context.Context, cli *clientv3.Client, b *concurrency.Election, pfx string,
	settle time.Duration) <-chan time.Time {
	won := make(chan time.Time, 1)
	go func() {
		if err := b.Campaign(ctx, "b"); err != nil {
			die("campaign: %v", err)
		}
		won <- time.Now()
	}()
	waitCandidates(cli, pfx+"/", 2)
	time.Sleep(settle)
	return won
}

func waitCandidates(cli *clientv3.Client, pfx string, n int64) {
	for {
		r, err := cli.Get(context.Background(), pfx, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err == nil && r.Count >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
