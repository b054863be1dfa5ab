// Longtail's HTTP API, with the operator's key from sessionStorage (gone when the tab closes).

const keyName = 'longtail.apiKey';
const urlName = 'longtail.apiUrl';

export const apiKey = () => sessionStorage.getItem(keyName);
export const setApiKey = (key) => sessionStorage.setItem(keyName, key);
export const forgetApiKey = () => sessionStorage.removeItem(keyName);

/** The API the page talks to: where it was served from, unless set (a console served from a bucket). */
export const apiUrl = () => (localStorage.getItem(urlName) || location.origin).replace(/\/$/, '');
export const setApiUrl = (url) =>
  url ? localStorage.setItem(urlName, url) : localStorage.removeItem(urlName);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Plain words for what the API answers when the key is not right. */
const authMessage = (status) =>
  status === 401
    ? 'No API key was sent: enter an operator key.'
    : 'This API key is not valid here: check it, or ask for a key listed in the API keys.';

export const api = async (path, { method = 'GET', body, headers = {} } = {}) => {
  let response;
  try {
    response = await fetch(`${apiUrl()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey() ?? ''}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, 'API_UNREACHABLE', `The API at ${apiUrl()} cannot be reached (${error.message}).`);
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    if (payload?.error) {
      throw new ApiError(response.status, payload.error.code, payload.error.message, payload.error.details);
    }
    if (response.status === 401 || response.status === 403) {
      throw new ApiError(
        response.status,
        response.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN',
        authMessage(response.status),
      );
    }
    throw new ApiError(
      response.status,
      'HTTP_' + response.status,
      `The API answered ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  return payload;
};
