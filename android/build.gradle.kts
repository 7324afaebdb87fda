// The dash-qrsync-android AAR: the UniFFI-generated Kotlin API (bindings/generated/kotlin),
// the idiomatic Flow layer (bindings/kotlin/src/main/kotlin), and the Rust library for
// arm64-v8a, armeabi-v7a and x86_64 in jniLibs (built by scripts/build-aar.sh with cargo-ndk).
plugins {
    id("com.android.library") version "8.5.2"
    id("org.jetbrains.kotlin.android") version "2.0.21"
}

android {
    namespace = "org.dash.qrsync"
    compileSdk = 34
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }
    sourceSets["main"].java.srcDirs(
        "../bindings/generated/kotlin",
        "../bindings/kotlin/src/main/kotlin",
    )
    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    packaging { jniLibs { useLegacyPackaging = false } }
}

dependencies {
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.8.1")
    androidTestImplementation("androidx.test:runner:1.6.2")
    androidTestImplementation("androidx.test.ext:junit:1.2.1")
}
