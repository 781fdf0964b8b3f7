/**
 * The error envelope — a contract shared by the Worker, the relay and the tests: every HTTP error
 * either of them answers is `{"error":{"code","message","details","request_id"}}`. `code` is for
 * programs, `message` (Korean) for people, `details` an object (empty when there is nothing to
 * add), `request_id` the request's id as its `X-Request-Id` header carries it.
 */

export type ErrorEnvelope = {
  error: {
    code: string;
    message: string;
    details: Record<string, unknown>;
    request_id: string | null;
  };
};

/** The envelope of one error. */
export function errorEnvelope(
  code: string,
  message: string,
  details: Record<string, unknown>,
  requestId: string | null,
): ErrorEnvelope {
  return { error: { code, message, details, request_id: requestId } };
}

/** The code and message of an error that has nothing more specific to say than its status. */
export const ERROR_FOR_STATUS: Partial<Record<number, readonly [code: string, message: string]>> = {
  400: ['VALIDATION_ERROR', '요청 형식이 올바르지 않습니다.'],
  401: ['TOKEN_MISSING', '인증이 필요합니다.'],
  403: ['FORBIDDEN', '권한이 없습니다.'],
  404: ['NOT_FOUND', '요청한 리소스를 찾을 수 없습니다.'],
  405: ['METHOD_NOT_ALLOWED', '허용되지 않은 메서드입니다.'],
  413: ['PAYLOAD_TOO_LARGE', '요청 본문이 너무 큽니다.'],
  415: ['UNSUPPORTED_MEDIA_TYPE', '지원하지 않는 형식입니다.'],
  429: ['RATE_LIMITED', '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.'],
  500: ['INTERNAL_ERROR', '서버 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.'],
  503: ['SERVICE_UNAVAILABLE', '일시적으로 서비스를 이용할 수 없습니다.'],
  504: ['TIMEOUT', '요청 처리 시간이 초과되었습니다.'],
};
