/**
 * The parts of the local Kubernetes control plane that need none of its binaries: the PKI (openssl),
 * the HTTPS client with a component's client certificate, and process supervision (start with a log
 * file, wait for readiness, stop). test/e2e-eks.test.ts runs the whole control plane.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiRequest } from "../lib/engine/control-plane/client.ts";
import { makePki, writeKubeconfig } from "../lib/engine/control-plane/pki.ts";
import { startProcess, stopProcess, until } from "../lib/engine/control-plane/processes.ts";

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8" });

describe("the local control plane's PKI", () => {
  const dir = mkdtempSync(join(tmpdir(), "envstack-pki-"));
  const pki = makePki(dir);

  it("signs the API server's certificate for its loopback address, ClusterIP and in-cluster names", () => {
    expect(openssl("verify", "-CAfile", pki.ca, pki.apiserver.cert)).toContain(": OK");
    const text = openssl("x509", "-in", pki.apiserver.cert, "-noout", "-text");
    expect(text).toContain("TLS Web Server Authentication");
    for (const name of ["IP Address:127.0.0.1", "IP Address:172.20.0.1", "DNS:kubernetes.default.svc.cluster.local"]) {
      expect(text).toContain(name);
    }
  });

  it("gives each component a client certificate whose subject is the identity RBAC sees", () => {
    const subject = (c: keyof typeof pki.clients) => openssl("x509", "-in", pki.clients[c].cert, "-noout", "-subject");
    expect(subject("admin")).toMatch(/O\s*=\s*system:masters, CN\s*=\s*envstack-admin/);
    expect(subject("scheduler")).toMatch(/CN\s*=\s*system:kube-scheduler/);
    expect(openssl("verify", "-CAfile", pki.ca, pki.clients["controller-manager"].cert)).toContain(": OK");
  });

  it("writes a kubeconfig that carries the CA and the client's certificate, readable by its owner only", () => {
    const file = writeKubeconfig(
      join(dir, "admin.kubeconfig"),
      "https://127.0.0.1:6443",
      pki.ca,
      pki.clients.admin,
      "admin",
    );
    const config = JSON.parse(readFileSync(file, "utf8"));
    expect(config.clusters[0].cluster.server).toBe("https://127.0.0.1:6443");
    expect(Buffer.from(config.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(
      readFileSync(pki.ca, "utf8"),
    );
    expect(config.users[0].user["client-certificate-data"]).toBe(
      readFileSync(pki.clients.admin.cert).toString("base64"),
    );
    expect(execFileSync("stat", ["-c", "%a", file], { encoding: "utf8" }).trim()).toBe("600");
  });

  it("the client speaks mutual TLS: the server sees the component's certificate, the client checks the server's", async () => {
    const server = createServer(
      {
        cert: readFileSync(pki.apiserver.cert),
        key: readFileSync(pki.apiserver.key),
        ca: readFileSync(pki.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          const peer = (req.socket as import("node:tls").TLSSocket).getPeerCertificate();
          res.setHeader("content-type", "application/json");
          res.end(
            JSON.stringify({ cn: peer.subject?.CN, method: req.method, type: req.headers["content-type"], body }),
          );
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await apiRequest(url, pki, "scheduler", "PATCH", "/api/v1/nodes/n", { a: 1 });
      expect(r).toEqual({
        status: 200,
        body: {
          cn: "system:kube-scheduler",
          method: "PATCH",
          type: "application/strategic-merge-patch+json",
          body: '{"a":1}',
        },
      });
      const other = makePki(mkdtempSync(join(tmpdir(), "envstack-pki-")));
      await expect(apiRequest(url, other, "admin", "GET", "/readyz")).rejects.toThrow();
    } finally {
      server.close();
    }
  });
});

describe("the local control plane's processes", () => {
  it("start with their output in a log file, are waited for, and stop on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "envstack-proc-"));
    const p = startProcess(dir, "talker", "/bin/sh", ["-c", "echo started; exec sleep 30"]);
    await until(p, "its first line", 10, async () => readFileSync(p.log, "utf8").includes("started"));
    expect(p.log).toBe(join(dir, "logs", "talker.log"));
    await stopProcess(p);
    expect(p.child.signalCode).toBe("SIGTERM");
  });

  it("a process that exits before it is ready fails the wait, naming it and quoting its log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "envstack-proc-"));
    const p = startProcess(dir, "quitter", "/bin/sh", ["-c", "echo cannot bind; exit 3"]);
    await expect(until(p, "health", 10, async () => false)).rejects.toThrow(
      /^quitter exited \(3\) before health: cannot bind/,
    );
  });
});
