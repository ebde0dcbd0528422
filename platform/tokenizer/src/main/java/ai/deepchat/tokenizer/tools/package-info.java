/**
 * DeepSeek tool calls in generated output: {@link ai.deepchat.tokenizer.tools.ToolCallParser} turns the
 * tool-call block of DeepSeek-V3/R1 back into OpenAI-style call pieces as the tokens arrive.
 */
package ai.deepchat.tokenizer.tools;
