#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct node { struct node *l, *r; int key; char name[24]; };
static struct node *insert(struct node *t, int k) {
  if (!t) { t = calloc(1, sizeof *t); t->key = k; snprintf(t->name, sizeof t->name, "n%d", k); return t; }
  if (k < t->key) t->l = insert(t->l, k); else t->r = insert(t->r, k);
  return t;
}
int main(void) { struct node *t = 0; for (int i = 0; i < 1000; i++) t = insert(t, (i * 7919) % 1009); printf("%d\n", t->key); return 0; }
