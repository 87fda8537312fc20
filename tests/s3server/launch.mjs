// Starts fauxqs' S3 API on 127.0.0.1 only. fauxqs' own startFauxqs() always listens on 0.0.0.0, so this builds
// the same Fastify app with buildApp() and chooses the listen address itself.
// Usage: node launch.mjs [port]   (port 0 or absent: a free one). Prints "fauxqs ready <port>" once listening,
// then one JSON log line per request; exits when stdin closes, so a killed test run leaves no server behind.
import { buildApp } from "fauxqs";

const requestedPort = Number.parseInt(process.argv[2] ?? "0", 10);
const app = buildApp({ logger: { level: process.env.FAUXQS_LOG_LEVEL ?? "info" }, host: "127.0.0.1" });
await app.listen({ port: requestedPort, host: "127.0.0.1" });
const { port } = app.server.address();
process.stdout.write(`fauxqs ready ${port}\n`);

const stop = async () => {
    await app.close();
    process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
