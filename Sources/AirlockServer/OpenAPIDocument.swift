/// The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`. A test checks its
/// paths and methods against the routes the endpoint registers, both ways.
enum OpenAPIDocument {
    static let text = #"""
{
  "components": {
    "securitySchemes": {
      "basic": {
        "description": "any user name, the token as password",
        "scheme": "basic",
        "type": "http"
      },
      "bearer": {
        "scheme": "bearer",
        "type": "http"
      }
    }
  },
  "info": {
    "title": "airlock review API",
    "version": "1"
  },
  "openapi": "3.1.0",
  "paths": {
    "/api/v1/audit": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "The audit log, newest first, each event with the hash of the one before",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/misses": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Install requests the endpoint could not serve",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          }
        },
        "security": [],
        "summary": "This document"
      }
    },
    "/api/v1/overrides": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Every override",
        "x-airlock-role": "reviewer"
      },
      "post": {
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "properties": {
                  "action": {
                    "enum": [
                      "approve",
                      "deny"
                    ],
                    "type": "string"
                  },
                  "ecosystem": {
                    "enum": [
                      "pypi",
                      "cran"
                    ],
                    "type": "string"
                  },
                  "expires_at": {
                    "description": "YYYY-MM-DD or RFC 3339 UTC; after it the override stops applying",
                    "type": "string"
                  },
                  "project": {
                    "type": "string"
                  },
                  "reason": {
                    "minLength": 1,
                    "type": "string"
                  },
                  "versions": {
                    "description": "empty: every version; a version; or a range (>=1.0,<2 for PyPI, >= 1.0, < 2.0 for CRAN)",
                    "type": "string"
                  },
                  "with_dependencies": {
                    "description": "approve the unserved dependency closure together, or nothing",
                    "type": "boolean"
                  }
                },
                "required": [
                  "ecosystem",
                  "project",
                  "action",
                  "reason"
                ],
                "type": "object"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Approve or deny a project, version or range; publishes a snapshot",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/projects/{ecosystem}/{project}": {
      "get": {
        "parameters": [
          {
            "in": "path",
            "name": "ecosystem",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "in": "path",
            "name": "project",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Releases with decisions and factor-by-factor explanations, overrides, dependency closure, demand",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/queue": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "The review queue, by demand then risk",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/revocations": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Every revocation",
        "x-airlock-role": "reviewer"
      },
      "post": {
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "properties": {
                  "ecosystem": {
                    "enum": [
                      "pypi",
                      "cran"
                    ],
                    "type": "string"
                  },
                  "project": {
                    "type": "string"
                  },
                  "reason": {
                    "minLength": 1,
                    "type": "string"
                  },
                  "version": {
                    "type": "string"
                  }
                },
                "required": [
                  "ecosystem",
                  "project",
                  "version",
                  "reason"
                ],
                "type": "object"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Revoke a release from every snapshot; publishes a snapshot",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/snapshots/{ecosystem}": {
      "get": {
        "parameters": [
          {
            "in": "path",
            "name": "ecosystem",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Published snapshots, oldest first",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/snapshots/{ecosystem}/{from}/diff/{to}": {
      "get": {
        "parameters": [
          {
            "in": "path",
            "name": "ecosystem",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "in": "path",
            "name": "from",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "in": "path",
            "name": "to",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role reviewer"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Files added and removed between two snapshots (latest, a date or an id)",
        "x-airlock-role": "reviewer"
      }
    },
    "/api/v1/tokens": {
      "get": {
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "array"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role admin"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "API tokens (never their secrets)",
        "x-airlock-role": "admin"
      },
      "post": {
        "requestBody": {
          "content": {
            "application/json": {
              "schema": {
                "properties": {
                  "expires_at": {
                    "type": "string"
                  },
                  "name": {
                    "type": "string"
                  },
                  "role": {
                    "enum": [
                      "reader",
                      "reviewer",
                      "admin"
                    ],
                    "type": "string"
                  }
                },
                "required": [
                  "name",
                  "role"
                ],
                "type": "object"
              }
            }
          },
          "required": true
        },
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role admin"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Create a token; its secret is shown once",
        "x-airlock-role": "admin"
      }
    },
    "/api/v1/tokens/{id}": {
      "delete": {
        "parameters": [
          {
            "in": "path",
            "name": "id",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            },
            "description": "OK"
          },
          "401": {
            "description": "missing, wrong, expired or revoked token"
          },
          "403": {
            "description": "token below role admin"
          }
        },
        "security": [
          {
            "bearer": []
          },
          {
            "basic": []
          }
        ],
        "summary": "Revoke a token",
        "x-airlock-role": "admin"
      }
    }
  }
}
"""#
}
