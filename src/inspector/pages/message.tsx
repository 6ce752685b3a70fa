import type { FC } from "hono/jsx";
import { Layout } from "../layout.js";

/** A page that only says something: not found, an error. */
export const MessagePage: FC<{ title: string; message: string }> = ({ title, message }) => (
  <Layout title={title}>
    <h1>{title}</h1>
    <p>{message}</p>
  </Layout>
);

/** Asks for an API key when the server requires one; the key is kept in an HttpOnly cookie. */
export const LoginPage: FC<{ message?: string; next?: string }> = ({ message, next }) => (
  <Layout title="Sign in">
    <h1>Sign in</h1>
    <p>This server requires an API key (or the admin token) to read its banks.</p>
    {message ? <p class="verdict-incorrect">{message}</p> : null}
    <form class="search" method="post" action="/login">
      <input
        type="password"
        name="token"
        placeholder="pk_…"
        aria-label="API key"
        autocomplete="off"
        required
      />
      <input type="hidden" name="next" value={next ?? "/"} />
      <button type="submit">Sign in</button>
    </form>
  </Layout>
);
