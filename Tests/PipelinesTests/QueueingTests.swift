import Pipelines
import Testing

@Suite struct QueueingTests {
    /// Erlang B against the entries of the standard Erlang B loss tables (as printed in
    /// teletraffic handbooks and call-centre tables, to four places): A = 2 erlangs on 5
    /// servers blocks 3.67%; 5 on 10, 1.84%; 10 on 14, 5.68%; one erlang on one server, 1/2.
    @Test func erlangBMatchesTables() {
        #expect(abs(Queueing.erlangB(servers: 5, offered: 2) - 0.0367) < 0.00005)
        #expect(abs(Queueing.erlangB(servers: 10, offered: 5) - 0.0184) < 0.00005)
        #expect(abs(Queueing.erlangB(servers: 14, offered: 10) - 0.0568) < 0.00005)
        #expect(Queueing.erlangB(servers: 1, offered: 1) == 0.5)
    }

    /// Erlang C: c = 3 servers with a = 2 erlangs wait with probability 4/9 (the basic
    /// example of Wolfram Language's `ErlangC[3, 2]`; by hand, B = 4/19 and C = 3B/(3 - 2(1-B))),
    /// and the M/M/1 and M/M/2 closed forms (Kleinrock, Queueing Systems Vol. 1, 1975,
    /// ch. 3): P(wait) = ρ for one server, 2ρ²/(1+ρ) for two.
    @Test func erlangCMatchesPublishedValues() {
        #expect(abs(Queueing.erlangC(servers: 3, offered: 2) - 4.0 / 9.0) < 1e-12)
        for rho in [0.1, 0.5, 0.8, 0.95] {
            #expect(abs(Queueing.erlangC(servers: 1, offered: rho) - rho) < 1e-12)
            #expect(abs(Queueing.erlangC(servers: 2, offered: 2 * rho) - 2 * rho * rho / (1 + rho)) < 1e-12)
        }
        #expect(Queueing.erlangC(servers: 4, offered: 4) == 1)
        #expect(Queueing.erlangC(servers: 4, offered: 0) == 0)
    }

    /// M/M/1 with λ = 2/s, μ = 3/s (Kleinrock vol. 1 ch. 3: N = ρ/(1-ρ), T = 1/(μ-λ)): the mean
    /// time in the system is 1 s, the mean number 2, and Little's law L = λW links them; the
    /// queue alone waits Wq = ρ/(μ-λ) = 2/3 s with Lq = ρ²/(1-ρ) = 4/3 items.
    @Test func littlesLawAndMM1() {
        let p = Queueing.predict(arrivalRate: 2, serviceRate: 3, servers: 1)
        #expect(p.isExact)
        #expect(abs(p.utilization - 2.0 / 3.0) < 1e-12)
        #expect(abs(p.meanWait! - 2.0 / 3.0) < 1e-12)
        #expect(abs(p.meanDepth! - 4.0 / 3.0) < 1e-12)
        #expect(abs(p.meanSojourn! - 1) < 1e-12)
        #expect(abs(Queueing.littlesLaw(arrivalRate: 2, time: p.meanSojourn!) - 2) < 1e-12)
    }

    /// Allen-Cunneen: the M/M/c wait scaled by (ca² + cs²)/2; for M/D/1 that is exactly the
    /// Pollaczek-Khinchine mean wait ρ/(2μ(1-ρ)).
    @Test func allenCunneenReducesToPollaczekKhinchineForMD1() {
        let p = Queueing.predict(arrivalRate: 0.8, serviceRate: 1, servers: 1, arrivalSCV: 1, serviceSCV: 0)
        #expect(!p.isExact)
        #expect(abs(p.meanWait! - 0.8 / (2 * 0.2)) < 1e-12)
    }

    @Test func unstableQueuesPredictNothingAndNameTheServersNeeded() {
        let p = Queueing.predict(arrivalRate: 10, serviceRate: 1, servers: 8)
        #expect(p.utilization == 1.25)
        #expect(p.meanWait == nil && p.meanDepth == nil)
        #expect(Queueing.smallestStableServers(arrivalRate: 10, serviceRate: 1) == 11)
        #expect(Queueing.smallestStableServers(arrivalRate: 9.5, serviceRate: 1) == 10)
    }
}
