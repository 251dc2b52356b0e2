/** A job of prometheus.yml's scrape_configs and its relabelling rules, as the program writes them (scrape-jobs.ts builds them, scrape-config.ts lists them). */
export type RelabelConfig = {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: "replace" | "keep" | "drop" | "labeldrop" | "labelkeep" | "labelmap";
};

export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  scheme?: "http" | "https";
  /** Prometheus 3: the format assumed when a target's Content-Type is missing or unknown. */
  fallback_scrape_protocol?:
    "PrometheusProto" | "OpenMetricsText0.0.1" | "OpenMetricsText1.0.0" | "PrometheusText0.0.4" | "PrometheusText1.0.0";
  honor_labels?: boolean;
  /** false on every job of the stack (scrape-config.ts): a target's redirect is a failed scrape, never a request elsewhere. */
  follow_redirects?: boolean;
  /** Prometheus' scrape limits (scrape-limits.ts limitsOf): a scrape over one of them fails, a job over target_limit loses every target. */
  sample_limit?: number;
  label_limit?: number;
  label_name_length_limit?: number;
  label_value_length_limit?: number;
  target_limit?: number;
  authorization?: { type?: string; credentials_file: string };
  basic_auth?: { username: string; password_file: string };
  tls_config?: { ca_file?: string; server_name?: string; insecure_skip_verify?: boolean };
  kubernetes_sd_configs?: Array<{ role: "endpoints" | "pod" | "node"; namespaces?: { names: string[] } }>;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  relabel_configs?: RelabelConfig[];
  /** Rules applied to every new scraped series before it is stored (keep, drop, a label set). */
  metric_relabel_configs?: RelabelConfig[];
}
