import { renderStack } from "/work/main/cli/render-stack";
(async () => {
  const n = Number(process.env.N ?? 30);
  const stack = process.env.STACK ?? "production";
  for (let i = 0; i < 5; i++) await renderStack({ stack });
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await renderStack({ stack });
  const u = process.cpuUsage(t0);
  console.log(stack, "cpu ms per render", ((u.user + u.system) / 1000 / n).toFixed(1));
})();
