/* catalogue.c — the built-in providers catalogue.
 *
 * Prices are USD per million tokens from each provider's public pricing as
 * stored on the date in prices_date (checked 2026-11-26); they change often,
 * so every provider carries prices_date and prices_source, and
 * `nightshift providers` prints both. Recipe for a price change: edit the
 * figures and the date, keep the test that qwen is the cheapest first
 * candidate of "cheap" (tests/unit/test_config.c) passing, and note model
 * retirements below.
 *
 * Only the lowest tier of a tiered price is recorded. Known gaps, all of
 * which make the estimate too low for long prompts: Qwen prices rise in
 * tiers of input length (qwen3-max above 32K tokens), Claude Haiku 5.5
 * bills a whole request 5x above 100K prompt tokens, and OpenAI's GPT-6
 * models have a separate tariff above 272K input tokens.
 *
 * Batch lanes (checked 2026-12-07): qwen (DashScope's OpenAI-compatible
 * Files + Batches), openai and anthropic (Message Batches) have one, each
 * at half price with a 24 h window. DeepSeek has no batch API (its
 * discount is the off-peak window). Mistral's and Gemini's batch APIs
 * have other shapes (Mistral's own job objects; Gemini's batch mode on its
 * native API, not the OpenAI-compatible endpoint used here), so they have
 * no lane until a client speaks them. A model a provider does not batch
 * says "batch": false.
 *
 * The JSON is written as macro arguments so the preprocessor turns it into
 * one string literal without a backslash per quote; comments inside the
 * macro call vanish before stringizing. */
#include "runner/providers/catalogue.h"

#define CATALOGUE_JSON(...) #__VA_ARGS__

static const char catalogue[] = CATALOGUE_JSON(
{
 "providers": {
  /* Alibaba Model Studio, international (Singapore) endpoint. Cached =
   * implicit context-cache hits, 20% of the input price. qwen-flash and
   * qwen-plus need the word "json" for JSON mode; Qwen3 thinking must be
   * off for non-streaming calls (PROVIDERS.md 3.3, 3.4). Batch: up to
   * 50,000 requests and 500 MB per file, window 24 h (up to 336 h
   * allowed); the Singapore region batches only qwen-max, qwen-plus,
   * qwen-flash and qwen3.7-plus (Model Studio "Batch inference" of
   * 2026-10-12; PROVIDERS.md 3.2 has qwen-turbo from an older page), so
   * not qwen3-max; batches read no context cache. */
  "qwen": {
   "dialect": "openai", "flavor": "dashscope",
   "base_url": "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
   "api_key_env": "DASHSCOPE_API_KEY",
   "max_inflight": 32, "timeout_s": 120,
   "prices_date": "2026-05-08",
   "prices_source":
    "https://www.alibabacloud.com/help/en/model-studio/models",
   "batch": {"api": "openai", "discount": 0.5, "max_requests": 50000,
    "max_bytes": 500000000, "window_h": 24},
   "models": {
    "qwen-flash": {"input_per_mtok": 0.05, "output_per_mtok": 0.40,
     "cached_input_per_mtok": 0.01,
     "context_window": 1000000, "max_output_tokens": 32768},
    "qwen-plus": {"input_per_mtok": 0.40, "output_per_mtok": 1.20,
     "cached_input_per_mtok": 0.08,
     "context_window": 1000000, "max_output_tokens": 32768},
    "qwen3-max": {"input_per_mtok": 1.20, "output_per_mtok": 6.00,
     "cached_input_per_mtok": 0.24,
     "context_window": 262144, "max_output_tokens": 65536,
     "batch": false}
   },
   "quirks": {"needs_json_word": true, "enable_thinking": false}
  },
  /* DeepSeek V4 (pricing page of 2026-11-15). deepseek-chat and
   * deepseek-reasoner were retired on 2026-07-24; deepseek-flash is
   * DeepSeek-V4.1-Flash. Base prices are the PEAK prices; off-peak is half.
   * Peak = 01:00-04:00 and 06:00-10:00 UTC Monday to Friday; weekends are
   * off-peak all day. Chinese public holidays are off-peak too but cannot
   * be expressed here, so those days are over-estimated. Thinking is on by
   * default in V4; JSON output wants the word "json" in the prompt. */
  "deepseek": {
   "dialect": "openai", "flavor": "deepseek",
   "base_url": "https://api.deepseek.com",
   "api_key_env": "DEEPSEEK_API_KEY",
   "max_inflight": 32, "timeout_s": 300,
   "prices_date": "2026-11-15",
   "prices_source": "https://api-docs.deepseek.com/quick_start/pricing",
   "models": {
    "deepseek-flash": {"input_per_mtok": 0.30, "output_per_mtok": 1.20,
     "cached_input_per_mtok": 0.006,
     "context_window": 1000000, "max_output_tokens": 393216,
     "offpeak": [
      {"start": "10:00", "end": "01:00",
       "input_per_mtok": 0.15, "output_per_mtok": 0.60},
      {"start": "04:00", "end": "06:00",
       "input_per_mtok": 0.15, "output_per_mtok": 0.60},
      {"start": "00:00", "end": "24:00", "days": ["sat", "sun"],
       "input_per_mtok": 0.15, "output_per_mtok": 0.60}]},
    "deepseek-v4-pro": {"input_per_mtok": 1.32, "output_per_mtok": 3.96,
     "cached_input_per_mtok": 0.044,
     "context_window": 1000000, "max_output_tokens": 393216,
     "offpeak": [
      {"start": "10:00", "end": "01:00",
       "input_per_mtok": 0.66, "output_per_mtok": 1.98},
      {"start": "04:00", "end": "06:00",
       "input_per_mtok": 0.66, "output_per_mtok": 1.98},
      {"start": "00:00", "end": "24:00", "days": ["sat", "sun"],
       "input_per_mtok": 0.66, "output_per_mtok": 1.98}]}
   },
   "quirks": {"needs_json_word": true, "enable_thinking": false}
  },
  /* Mistral (API price list of 2026-09-24): -latest currently points at
   * Mistral Small 4 and Mistral Large 3. Per-model cache prices are not
   * published, so cached input is billed at the input price. Mistral
   * answers 422 extra_forbidden to fields it does not know; the ones seen
   * in public reports (store, metadata, max_completion_tokens, n/seed in
   * older versions) and OpenAI-only ones are dropped. */
  "mistral": {
   "dialect": "openai", "flavor": "mistral",
   "base_url": "https://api.mistral.ai/v1",
   "api_key_env": "MISTRAL_API_KEY",
   "timeout_s": 120,
   "prices_date": "2026-09-24",
   "prices_source": "https://mistral.ai/pricing",
   "models": {
    "mistral-small-latest": {
     "input_per_mtok": 0.15, "output_per_mtok": 0.60,
     "context_window": 262144},
    "mistral-large-latest": {
     "input_per_mtok": 0.50, "output_per_mtok": 1.50,
     "context_window": 262144}
   },
   "quirks": {"drop_params": ["store", "metadata", "service_tier",
    "user", "logit_bias", "logprobs", "top_logprobs", "seed",
    "max_completion_tokens"]}
  },
  /* OpenAI (GPT-6 prices effective 2026-09-22). gpt-4o-mini stays for
   * existing batch files that name it; it shuts down on 2027-01-14, with
   * gpt-6-luna as the recommended replacement. GPT-6 models reason by
   * default: reasoning tokens bill as output. Batch: 50,000 requests and
   * 200 MB per input file, window "24h" only (PROVIDERS.md 1). */
  "openai": {
   "dialect": "openai", "flavor": "openai",
   "base_url": "https://api.openai.com/v1",
   "api_key_env": "OPENAI_API_KEY",
   "timeout_s": 300,
   "prices_date": "2026-09-22",
   "prices_source": "https://developers.openai.com/api/docs/pricing",
   "batch": {"api": "openai", "discount": 0.5, "max_requests": 50000,
    "max_bytes": 200000000, "window_h": 24},
   "models": {
    "gpt-6-luna": {"input_per_mtok": 0.10, "output_per_mtok": 0.50,
     "cached_input_per_mtok": 0.01, "cache_write_per_mtok": 0.125,
     "context_window": 1050000},
    "gpt-6-sol": {"input_per_mtok": 2.00, "output_per_mtok": 10.00,
     "cached_input_per_mtok": 0.20, "cache_write_per_mtok": 2.50},
    "gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.60,
     "cached_input_per_mtok": 0.075,
     "context_window": 128000, "max_output_tokens": 16384}
   }
  },
  /* Anthropic Messages API (pricing page as of 2026-10-24; Sonnet 5.5
   * cache reads cut to 0.10 on 2026-10-07). Cache writes are the 5-minute
   * rate. The Messages API has no JSON mode: emulate it. Message
   * Batches: 100,000 requests or 256 MB, ended within 24 h; the discount
   * covers cache reads and writes too (PROVIDERS.md 2.1). */
  "anthropic": {
   "dialect": "anthropic",
   "base_url": "https://api.anthropic.com",
   "api_key_env": "ANTHROPIC_API_KEY",
   "timeout_s": 300,
   "prices_date": "2026-10-24",
   "prices_source":
    "https://platform.claude.com/docs/en/about-claude/pricing",
   "batch": {"api": "anthropic", "discount": 0.5, "max_requests": 100000,
    "max_bytes": 256000000, "window_h": 24},
   "models": {
    "claude-haiku-5-5": {"input_per_mtok": 0.10, "output_per_mtok": 0.50,
     "cached_input_per_mtok": 0.01, "cache_write_per_mtok": 0.125,
     "context_window": 1000000, "max_output_tokens": 128000},
    "claude-sonnet-5-5": {
     "input_per_mtok": 2.00, "output_per_mtok": 10.00,
     "cached_input_per_mtok": 0.10, "cache_write_per_mtok": 2.50,
     "context_window": 1000000, "max_output_tokens": 128000}
   },
   "quirks": {"json_mode": "prompt"}
  },
  /* Gemini through its OpenAI-compatible endpoint (pricing page read
   * 2026-10-07). gemini-2.0-flash shut down on 2026-06-01 and the 2.5
   * family on 2026-10-16. gemini-3.8-flash is at an introductory
   * 0.75/3.75 through 2026-12-31 and 1.50/7.50 from 2027-01-01: update it
   * then. Cache prices not recorded: billed at the input price. */
  "gemini": {
   "dialect": "openai", "flavor": "gemini",
   "base_url":
    "https://generativelanguage.googleapis.com/v1beta/openai",
   "api_key_env": "GEMINI_API_KEY",
   "timeout_s": 300,
   "prices_date": "2026-10-07",
   "prices_source": "https://ai.google.dev/gemini-api/docs/pricing",
   "models": {
    "gemini-3.5-flash-lite": {
     "input_per_mtok": 0.30, "output_per_mtok": 2.50,
     "context_window": 1048576},
    "gemini-3.8-flash": {
     "input_per_mtok": 0.75, "output_per_mtok": 3.75,
     "context_window": 1048576}
   }
  }
 },
 /* Cheapest first by list price (the scheduler re-orders by the price in
  * force, e.g. DeepSeek off-peak). */
 "routes": {
  "cheap": ["qwen:qwen-flash", "openai:gpt-6-luna",
   "anthropic:claude-haiku-5-5", "mistral:mistral-small-latest",
   "deepseek:deepseek-flash", "gemini:gemini-3.5-flash-lite"],
  "quality": ["qwen:qwen3-max", "mistral:mistral-large-latest",
   "gemini:gemini-3.8-flash", "deepseek:deepseek-v4-pro",
   "openai:gpt-6-sol", "anthropic:claude-sonnet-5-5"]
 }
}
);

const char *catalogue_json(void)
{
	return catalogue;
}
