package org.refusallab.api.model;

/** The checkpoint's tokenizer (Hugging Face tokenizer.json) and chat format. */
public interface TextTokenizer {

    /** Token ids of a text; special tokens written in the text ({@code <bos>}, {@code <start_of_turn>}) are recognised. */
    int[] encode(String text);

    String decode(int[] ids, boolean skipSpecialTokens);

    /** Id of one token string, e.g. "I" or "<end_of_turn>"; throws if the tokenizer does not have it as one token. */
    int tokenId(String token);

    /** The token string of an id (for axis labels). */
    String tokenString(int id);

    /** Gemma's chat prompt: {@code <bos><start_of_turn>user\n{instruction}<end_of_turn>\n<start_of_turn>model\n}. */
    default String chatPrompt(String instruction) {
        return "<bos><start_of_turn>user\n" + instruction + "<end_of_turn>\n<start_of_turn>model\n";
    }

    default int[] encodeChat(String instruction) {
        return encode(chatPrompt(instruction));
    }
}
