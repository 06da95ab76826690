/*  Unit tests of the gossip keyring and AES-GCM sealing (gossipd/keyring.c,
    gossipd/crypto.c), spec docs/protocol/gossip.md "Encryption and keyring". */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../gossipd/keyring.h"

static uint8_t k1[16], k2[24], k3[32];

static void
s_setup (void)
{
    memset (k1, 1, sizeof k1);
    memset (k2, 2, sizeof k2);
    memset (k3, 3, sizeof k3);
}

START_TEST (test_install_use_remove)
{
    keyring_t *ring = keyring_new ();
    const char *error = NULL;
    ck_assert_uint_eq (keyring_size (ring), 0);
    ck_assert_int_eq (keyring_install (ring, k1, 15, &error), -1);
    ck_assert_str_eq (error, "key size must be 16, 24 or 32 bytes");
    ck_assert_int_eq (keyring_install (ring, k1, 16, &error), 0);
    ck_assert_int_eq (keyring_install (ring, k2, 24, &error), 0);
    ck_assert_int_eq (keyring_install (ring, k1, 16, &error), 0);     //  already there
    ck_assert_uint_eq (keyring_size (ring), 2);
    size_t len;
    ck_assert_int_eq (memcmp (keyring_key (ring, 0, &len), k1, 16), 0);   //  first is primary
    ck_assert_int_eq (keyring_use (ring, k3, 32, &error), -1);
    ck_assert_str_eq (error, "Requested key is not in the keyring");
    ck_assert_int_eq (keyring_use (ring, k2, 24, &error), 0);
    ck_assert_int_eq (memcmp (keyring_key (ring, 0, &len), k2, 24), 0);
    ck_assert_uint_eq (len, 24);
    ck_assert_int_eq (keyring_remove (ring, k2, 24, &error), -1);
    ck_assert_str_eq (error, "Removing the primary key is not allowed");
    ck_assert_int_eq (keyring_remove (ring, k3, 32, &error), 0);     //  absent: no-op
    ck_assert_int_eq (keyring_remove (ring, k1, 16, &error), 0);
    ck_assert_uint_eq (keyring_size (ring), 1);
    ck_assert_ptr_null (keyring_key (ring, 1, &len));
    char text[CRYPTO_KEY_TEXT_MAX];
    ck_assert_int_eq (keyring_key_text (ring, 0, text, sizeof text), 0);
    uint8_t back[32];
    ck_assert_int_eq (crypto_key_decode (text, back, &len), 0);
    ck_assert_int_eq (memcmp (back, k2, 24), 0);
    keyring_destroy (&ring);
    ck_assert_ptr_null (ring);
}
END_TEST

START_TEST (test_full)
{
    keyring_t *ring = keyring_new ();
    const char *error;
    for (int i = 0; i < KEYRING_MAX; i++) {
        uint8_t key[16];
        memset (key, i + 10, sizeof key);
        ck_assert_int_eq (keyring_install (ring, key, 16, &error), 0);
    }
    ck_assert_int_eq (keyring_install (ring, k1, 16, &error), -1);
    ck_assert_str_eq (error, "keyring is full (16 keys)");
    keyring_destroy (&ring);
}
END_TEST

START_TEST (test_seal_rotation)
{
    keyring_t *old = keyring_new ();
    keyring_t *rotated = keyring_new ();
    const char *error;
    keyring_install (old, k1, 16, &error);
    keyring_install (rotated, k1, 16, &error);
    const uint8_t aad[4] = { 'M', 'G', 1, 1 };
    const char *plain = "alive n1";
    uint8_t sealed[64], opened[64];
    size_t len = strlen (plain);
    //  Install then use the new key on one node: it seals with k3, the
    //  other (still on k1 but with k3 installed) opens both.
    keyring_install (rotated, k3, 32, &error);
    keyring_use (rotated, k3, 32, &error);
    ck_assert_int_eq (keyring_seal (rotated, aad, 4, (const uint8_t *) plain, len, sealed), 0);
    ck_assert_int_eq (keyring_open (old, aad, 4, sealed, len + CRYPTO_OVERHEAD, opened), -1);
    keyring_install (old, k3, 32, &error);
    ck_assert_int_eq (keyring_open (old, aad, 4, sealed, len + CRYPTO_OVERHEAD, opened), 0);
    ck_assert_int_eq (memcmp (opened, plain, len), 0);
    ck_assert_int_eq (keyring_seal (old, aad, 4, (const uint8_t *) plain, len, sealed), 0);
    ck_assert_int_eq (keyring_open (rotated, aad, 4, sealed, len + CRYPTO_OVERHEAD, opened), 0);
    //  Another AAD fails; an empty keyring neither seals nor opens.
    const uint8_t other_aad[4] = { 'M', 'G', 1, 0 };
    ck_assert_int_eq (keyring_open (rotated, other_aad, 4, sealed, len + CRYPTO_OVERHEAD,
                                    opened), -1);
    keyring_t *empty = keyring_new ();
    ck_assert_int_eq (keyring_seal (empty, aad, 4, (const uint8_t *) plain, len, sealed), -1);
    ck_assert_int_eq (keyring_open (empty, aad, 4, sealed, len + CRYPTO_OVERHEAD, opened), -1);
    //  Two seals of the same text differ (fresh nonces).
    uint8_t again[64];
    keyring_seal (old, aad, 4, (const uint8_t *) plain, len, again);
    ck_assert_int_ne (memcmp (again, sealed, len + CRYPTO_OVERHEAD), 0);
    keyring_destroy (&old);
    keyring_destroy (&rotated);
    keyring_destroy (&empty);
}
END_TEST

START_TEST (test_key_text)
{
    uint8_t key[32];
    size_t len = 0;
    ck_assert_int_eq (crypto_key_decode ("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=", key, &len), 0);
    ck_assert_uint_eq (len, 32);
    ck_assert_int_eq (crypto_key_decode ("AAAAAAAAAAAAAAAAAAAAAA==", key, &len), 0);
    ck_assert_uint_eq (len, 16);
    ck_assert_int_eq (crypto_key_decode ("not base64!", key, &len), -1);
    ck_assert_int_eq (crypto_key_decode ("AAAA", key, &len), -1);       //  3 bytes
    ck_assert_int_eq (crypto_key_decode ("", key, &len), -1);
    ck_assert_int_eq (crypto_key_decode (NULL, key, &len), -1);
    ck_assert_ptr_null (crypto_key_new (key, 20));
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_lt (crypto_random_below (7), 7);
}
END_TEST

START_TEST (test_file)
{
    char dir[] = "/tmp/check-keyring-XXXXXX";
    ck_assert_ptr_nonnull (mkdtemp (dir));
    char path[128], err[256];
    snprintf (path, sizeof path, "%s/gossip/keyring", dir);
    keyring_t *lan = keyring_new (), *wan = keyring_new ();
    ck_assert_int_eq (keyring_file_load (path, lan, wan, err, sizeof err), 0);   //  none yet
    const char *error;
    keyring_install (lan, k1, 16, &error);
    keyring_install (lan, k2, 24, &error);
    keyring_install (wan, k3, 32, &error);
    ck_assert_int_eq (keyring_file_save (path, lan, wan), 0);
    struct stat st;
    ck_assert_int_eq (stat (path, &st), 0);
    ck_assert_int_eq (st.st_mode & 0777, 0600);
    keyring_t *lan2 = keyring_new (), *wan2 = keyring_new ();
    ck_assert_int_eq (keyring_file_load (path, lan2, wan2, err, sizeof err), 1);
    ck_assert_uint_eq (keyring_size (lan2), 2);
    ck_assert_uint_eq (keyring_size (wan2), 1);
    size_t len;
    ck_assert_int_eq (memcmp (keyring_key (lan2, 1, &len), k2, 24), 0);
    //  A bad file is an error and leaves both keyrings empty.
    FILE *file = fopen (path, "w");
    fputs ("{\"LAN\":[\"nope\"]}", file);
    fclose (file);
    ck_assert_int_eq (keyring_file_load (path, lan2, wan2, err, sizeof err), -1);
    ck_assert_uint_eq (keyring_size (lan2), 0);
    file = fopen (path, "w");
    fputs ("[1,2", file);
    fclose (file);
    ck_assert_int_eq (keyring_file_load (path, lan2, wan2, err, sizeof err), -1);
    unlink (path);
    snprintf (path, sizeof path, "%s/gossip", dir);
    rmdir (path);
    rmdir (dir);
    keyring_destroy (&lan);
    keyring_destroy (&wan);
    keyring_destroy (&lan2);
    keyring_destroy (&wan2);
}
END_TEST

int
main (void)
{
    Suite *suite = suite_create ("gossip_keyring");
    TCase *ops = tcase_create ("operations");
    tcase_set_timeout (ops, 10);
    tcase_add_checked_fixture (ops, s_setup, NULL);
    tcase_add_test (ops, test_install_use_remove);
    tcase_add_test (ops, test_full);
    tcase_add_test (ops, test_key_text);
    suite_add_tcase (suite, ops);
    TCase *seal = tcase_create ("sealing");
    tcase_set_timeout (seal, 10);
    tcase_add_checked_fixture (seal, s_setup, NULL);
    tcase_add_test (seal, test_seal_rotation);
    suite_add_tcase (suite, seal);
    TCase *file = tcase_create ("file");
    tcase_set_timeout (file, 10);
    tcase_add_checked_fixture (file, s_setup, NULL);
    tcase_add_test (file, test_file);
    suite_add_tcase (suite, file);
    SRunner *runner = srunner_create (suite);
    srunner_run_all (runner, CK_NORMAL);
    int failed = srunner_ntests_failed (runner);
    srunner_free (runner);
    return failed ? 1 : 0;
}
